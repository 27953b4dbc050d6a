"""The application: the JSON API under /api/v1 (OpenAPI at /docs) and the web pages at /."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from cartflow import __version__
from cartflow.audit.endpoints import router as audit_router
from cartflow.auth.endpoints import router as auth_router
from cartflow.clinical.endpoints import router as clinical_router
from cartflow.clinical.grading_endpoints import router as grading_router
from cartflow.config import Settings, get_settings
from cartflow.db.engine import make_engine
from cartflow.db.session import make_sessionmaker
from cartflow.episodes.endpoints import router as episodes_router
from cartflow.errors import CartflowError
from cartflow.i18n import gettext
from cartflow.i18n.middleware import LocaleMiddleware
from cartflow.i18n.validation import validation_message
from cartflow.logistics.endpoints import router as logistics_router
from cartflow.manufacturing.endpoints import router as manufacturing_router
from cartflow.network.endpoints import router as network_router
from cartflow.operations.limits import AdmissionLimit, BodySizeLimit
from cartflow.registry.endpoints import router as registry_router
from cartflow.scheduling.endpoints import router as scheduling_router
from cartflow.web.routes import router as web_router

STATIC_DIR = Path(__file__).parent / "web" / "static"


def _field_of(error: Mapping[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    return ".".join(loc) or "body"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = _field_of(first)
    details = [{"field": _field_of(e), "message": validation_message(e)} for e in errors]
    return JSONResponse(
        status_code=422,
        content={
            "code": "INVALID-REQUEST",
            "message": f"{field}: {validation_message(first)}",
            "field": field,
            "errors": details,
        },
    )


async def _cartflow_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CartflowError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse(status_code=exc.status_code, content=exc.to_dict(), headers=headers)


async def _stale(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=409,
        content={
            "code": "CONCURRENT-CHANGE",
            "message": gettext(
                "someone else changed this record at the same moment; reload and retry"
            ),
        },
    )


async def _integrity(_request: Request, _exc: Exception) -> JSONResponse:
    # Database constraints back up the service checks (uniqueness, capacity); a race that slips
    # past the check lands here and is refused, never half-written.
    return JSONResponse(
        status_code=409,
        content={
            "code": "CONSTRAINT-VIOLATION",
            "message": gettext(
                "the change conflicts with an existing record (a concurrent change?)"
            ),
        },
    )


async def _data_error(_request: Request, _exc: Exception) -> JSONResponse:
    # The database refuses a value the schema let through (PostgreSQL: a NUL character in text,
    # a number out of its column's range): the input is at fault, not the server.
    return JSONResponse(
        status_code=422,
        content={
            "code": "INVALID-VALUE",
            "message": gettext(
                "a value in the request cannot be stored or compared "
                "(a NUL character, or a number out of range)"
            ),
        },
    )


def api_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1")

    @api.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    api.include_router(auth_router)
    api.include_router(network_router)
    api.include_router(episodes_router)
    api.include_router(grading_router)
    api.include_router(clinical_router)
    api.include_router(manufacturing_router)
    api.include_router(logistics_router)
    api.include_router(audit_router)
    api.include_router(scheduling_router)
    api.include_router(registry_router)
    return api


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="cartflow",
        version=__version__,
        description="Vein-to-vein orchestration for a CAR-T cell therapy network.",
        docs_url="/docs",
        openapi_url="/api/v1/openapi.json",
    )
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)

    # Innermost first: the admission limit counts only requests that passed the size check, and
    # a refusal of either is in the reader's language (LocaleMiddleware is outside both).
    # The health check is exempt: it uses no database connection and no lock, and a process that
    # is busy, not dead, must still say so to whatever watches it. Static files neither.
    app.add_middleware(
        AdmissionLimit,
        limit=settings.admitted_requests,
        queue=settings.admission_queue,
        wait_seconds=settings.admission_wait_seconds,
        exempt=("/api/v1/health", "/static/"),
    )
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes)
    # Outermost, so that every response (errors from the other middleware too) is in the
    # reader's language.
    app.add_middleware(LocaleMiddleware, default_locale=settings.default_locale)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(CartflowError, _cartflow_error)
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(DataError, _data_error)
    app.include_router(api_router())
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
