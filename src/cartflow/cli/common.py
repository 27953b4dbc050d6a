"""Shared CLI conventions: bad input is one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

EXIT_BAD_INPUT = 2


def fail(message: str, *, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print one line to stderr and exit (2 by default: the input was not acceptable)."""
    sys.stderr.write(message.rstrip().replace("\n", " ") + "\n")
    raise typer.Exit(code)
