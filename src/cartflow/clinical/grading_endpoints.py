"""HTTP form of the grading contract: `POST /grading/crs` and `POST /grading/icans`.

The lead mounts `router` under /api/v1. The body is one assessment object or a list of them and the
response is always a list of {"grade", "reason"}, exactly as `cartflow grade` prints. The body is
decoded and validated by the same code as the CLI rather than by FastAPI's union parsing, so a 422
names the field and list item once (a union of object-or-list would report every failing branch)
with the CLI's wording. The OpenAPI request body is declared explicitly for the same reason.

Any authenticated user may grade: the endpoints compute from the body alone and read or write no
patient record.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, JsonValue

from cartflow.auth.dependencies import CurrentUser
from cartflow.clinical.grading import (
    GradingInputError,
    grade_crs_payload,
    grade_icans_payload,
    parse_json_text,
)
from cartflow.clinical.grading_schemas import CrsAssessment, GradeResult, IcansAssessment

router = APIRouter(prefix="/grading", tags=["grading"])


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline_refs(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_refs(value, defs) for value in node]
    return node


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI request body: the model or a list of it, inlined so no reference dangles."""
    schema = model.model_json_schema()
    obj = _inline_refs(schema, schema.pop("$defs", {}))
    body = {"anyOf": [obj, {"type": "array", "items": obj}]}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}


def _refuse(exc: GradingInputError) -> RequestValidationError:
    return RequestValidationError(
        [
            # The message is already in the reader's language: a type of our own keeps the
            # API's validation handler from translating it a second time.
            {"loc": ("body", *err.loc), "msg": str(err.message), "type": "grading_input"}
            for err in exc.errors
        ]
    )


async def _payload(request: Request, kind: str) -> JsonValue:
    raw = await request.body()
    try:
        return parse_json_text(raw.decode("utf-8", errors="replace"), kind=kind)
    except GradingInputError as exc:
        raise _refuse(exc) from exc


@router.post(
    "/crs",
    response_model=list[GradeResult],
    summary="ASTCT CRS grade of one assessment or a list",
    openapi_extra=_body_schema(CrsAssessment),
)
async def post_crs(request: Request, _user: CurrentUser) -> list[GradeResult]:
    """Grade CRS per Lee et al. 2019; 422 names the malformed field (and list item)."""
    payload = await _payload(request, "CRS")
    try:
        return grade_crs_payload(payload)
    except GradingInputError as exc:
        raise _refuse(exc) from exc


@router.post(
    "/icans",
    response_model=list[GradeResult],
    summary="ASTCT ICANS grade of one assessment or a list",
    openapi_extra=_body_schema(IcansAssessment),
)
async def post_icans(request: Request, _user: CurrentUser) -> list[GradeResult]:
    """Grade ICANS per Lee et al. 2019 (ICE from 12 years, CAPD under 12); 422 names the field."""
    payload = await _payload(request, "ICANS")
    try:
        return grade_icans_payload(payload)
    except GradingInputError as exc:
        raise _refuse(exc) from exc
