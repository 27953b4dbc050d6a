# The two commands of the README: `make demo` and `make test`. Both build .venv from pinned
# dependencies (constraints.txt) on a machine that has only Python 3.11 and pip.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2
LINT_PATHS := src tests benchmarks

.PHONY: install demo test lint typecheck migrations-check test-sqlite test-postgres clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "cartflow needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/cartflow demo

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: install
	$(BIN)/mypy

migrations-check: install
	@tmp=$$(mktemp -d); \
	CARTFLOW_DATABASE_URL=sqlite:///$$tmp/check.sqlite3 $(BIN)/cartflow db upgrade >/dev/null && \
	CARTFLOW_DATABASE_URL=sqlite:///$$tmp/check.sqlite3 $(BIN)/alembic check; \
	status=$$?; rm -rf $$tmp; exit $$status

test-sqlite: install
	scripts/ensure-chromium
	CARTFLOW_TEST_DATABASE=sqlite $(BIN)/pytest -n $(PYTEST_WORKERS) -q

test-postgres: install
	scripts/ensure-postgres
	scripts/ensure-chromium
	CARTFLOW_TEST_DATABASE=postgresql $(BIN)/pytest -n $(PYTEST_WORKERS) -q

test: lint typecheck migrations-check test-sqlite test-postgres

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
