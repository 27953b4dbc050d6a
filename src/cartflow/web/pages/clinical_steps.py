"""The clinician's steps before and at infusion, each through `cartflow.clinical`: consent and
the eligibility assessment (a passing one moves the episode to eligible), the lymphodepletion
plan and its start, and the two-person bedside identity check followed by the infusion record.

The bedside check is two people on two sessions: the first scans bag and wristband and signs;
a different clinician or nurse, logged in as themselves, scans again and signs. A mismatch is the
same full-screen hard stop as a custody scan (nothing is recorded, nothing may be thawed). A wrong
password counts towards the signer's lock-out.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.signatures import IDENTITY_VERIFIED_AT_BEDSIDE
from cartflow.auth.actor import Actor
from cartflow.clinical import eligibility_service, infusion_service, lymphodepletion_service
from cartflow.clinical import service as clinical
from cartflow.clinical.eligibility import LAB_LABELS, LabTest
from cartflow.clinical.errors import BedsideCheckRefused
from cartflow.clinical.lymphodepletion import (
    DRUG_LABELS,
    REGIMENS,
    RENAL_FUNCTION_LABELS,
    LdDose,
    renal_explanation,
)
from cartflow.clinical.phrases import Number
from cartflow.clinical.schemas import (
    BedsideScanIn,
    ConsentIn,
    EligibilityIn,
    InfusionIn,
    LdPlanIn,
    LdStartIn,
)
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.errors import CartflowError, InvalidInput
from cartflow.i18n import Message, _, zone_label
from cartflow.models import Episode
from cartflow.models.clinical import ConsentKind
from cartflow.models.clinical_infusion import BedsideCheck, BedsideCheckStatus
from cartflow.web import views
from cartflow.web.forms import FormFields, field_errors, filled, refusal, signature_refusal
from cartflow.web.pageauth import PageActor, page_router
from cartflow.web.templating import render

router = page_router(prefix="/clinician/episodes/{episode_id}")

CONSENT_KINDS: dict[ConsentKind, Message] = {
    ConsentKind.TREATMENT: _("treatment"),
    ConsentKind.LONG_TERM_FOLLOW_UP: _("long-term follow-up"),
    ConsentKind.REGISTRY: _("registry"),
}
# The meaning a bedside signature carries, as the page shows it (the signed record keeps English).
MEANINGS: dict[str, Message] = {IDENTITY_VERIFIED_AT_BEDSIDE: _("Identity verified at bedside")}
SIGNERS: dict[str, Message] = {
    "patient": _("patient"),
    "parent": _("parent"),
    "legal_guardian": _("legal guardian"),
}


def _local(value: str, zone: str, field: str) -> dt.datetime:
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(_("{field}: a date and time", field=field), field=field) from exc
    return naive.replace(tzinfo=zoneinfo.ZoneInfo(zone)) if naive.tzinfo is None else naive


def _base(actor: Actor, episode: Episode, **extra: Any) -> dict[str, Any]:
    return {
        "episode": episode,
        "patient_label": views.patient_label(actor, episode),
        "today": views.local_today(episode.center),
        "zone": episode.center.timezone,
        # Numbers with the reader's decimal sign (36,6 in Russian): num(value, digits).
        "num": Number,
        # MSK/МСК, UTC+5: what the clock on the ward's wall says it is.
        "zone_abbreviation": zone_label(
            dt.datetime.now(zoneinfo.ZoneInfo(episode.center.timezone))
        ),
        **extra,
    }


def _attempt(
    session: Session,
    schema: type[BaseModel],
    payload: dict[str, Any],
    action: Any,
    *,
    signing: tuple[Request, Actor] | None = None,
) -> dict[str, str] | None:
    """Run `action` on the validated payload; the errors to show, or None when it succeeded."""
    try:
        action(schema.model_validate(payload))
    except ValidationError as exc:
        return field_errors(exc)
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        if signing is not None:
            return signature_refusal(signing[0], session, signing[1], exc)
        return refusal(session, exc)
    return None


# --- eligibility ---------------------------------------------------------------------------------


def _eligibility_page(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    form: str = "",
    status_code: int = 200,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    context = _base(
        actor,
        episode,
        consents=clinical.consents(session, actor=actor, episode_id=episode_id),
        assessments=eligibility_service.eligibility_assessments(
            session, actor=actor, episode_id=episode_id
        ),
        labs=list(LabTest),
        lab_labels=LAB_LABELS,
        consent_kinds=CONSENT_KINDS,
        signers=SIGNERS,
        errors=errors or {},
        form=form,
    )
    return render(request, "eligibility.html", context, actor=actor, status_code=status_code)


@router.get("/eligibility")
def eligibility_page(
    request: Request, episode_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    return _eligibility_page(request, session, actor, episode_id)


@router.post("/consents")
def add_consent(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    errors = _attempt(
        session,
        ConsentIn,
        filled(fields, "kind", "signed_on", "form_version", "signed_by"),
        lambda data: clinical.record_consent(
            session, actor=actor, episode_id=episode_id, data=data
        ),
    )
    if errors:
        return _eligibility_page(
            request, session, actor, episode_id, errors=errors, form="consent", status_code=422
        )
    return RedirectResponse(f"/clinician/episodes/{episode_id}/eligibility", status_code=303)


@router.post("/eligibility")
def assess(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    labs = {
        lab.value: fields[f"lab_{lab.value}"] for lab in LabTest if fields.get(f"lab_{lab.value}")
    }
    errors = _attempt(
        session,
        EligibilityIn,
        {**filled(fields, "ecog", "karnofsky_lansky", "notes"), "labs": labs},
        lambda data: eligibility_service.assess_eligibility(
            session, actor=actor, episode_id=episode_id, data=data
        ),
    )
    if errors:
        return _eligibility_page(
            request, session, actor, episode_id, errors=errors, form="assess", status_code=422
        )
    # A failing assessment is a clinical record too: it is listed on the page with its reasons.
    return RedirectResponse(f"/clinician/episodes/{episode_id}/eligibility", status_code=303)


# --- lymphodepletion ------------------------------------------------------------------------------


def _ld_page(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    plan = lymphodepletion_service.get_current_plan(session, actor=actor, episode_id=episode_id)
    regimens = [(code, r.label) for code, r in sorted(REGIMENS.items())]
    context = _base(
        actor,
        episode,
        plan=plan,
        errors=errors or {},
        regimens=regimens,
        drugs=DRUG_LABELS,
        renal_functions=RENAL_FUNCTION_LABELS,
        renal_text=renal_explanation(plan.crcl_ml_min) if plan is not None else None,
        # Stored as JSON: typed again so that dates are dates (shown with |day) and drugs named.
        doses=[LdDose.model_validate(d) for d in plan.doses] if plan is not None else [],
    )
    return render(request, "lymphodepletion.html", context, actor=actor, status_code=status_code)


@router.get("/lymphodepletion")
def ld_page(
    request: Request, episode_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    return _ld_page(request, session, actor, episode_id)


@router.post("/lymphodepletion/plan")
def ld_plan(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    errors = _attempt(
        session,
        LdPlanIn,
        filled(
            fields, "infusion_date", "regimen", "crcl_ml_min", "serum_creatinine_mg_dl", "reason"
        ),
        lambda data: lymphodepletion_service.create_plan(
            session, actor=actor, episode_id=episode_id, data=data
        ),
    )
    if errors:
        return _ld_page(request, session, actor, episode_id, errors=errors, status_code=422)
    return RedirectResponse(f"/clinician/episodes/{episode_id}/lymphodepletion", status_code=303)


@router.post("/lymphodepletion/start")
def ld_start(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    errors = _attempt(
        session,
        LdStartIn,
        filled(fields, "reason"),
        lambda data: lymphodepletion_service.start_lymphodepletion(
            session, actor=actor, episode_id=episode_id, data=data
        ),
    )
    if errors:
        return _ld_page(request, session, actor, episode_id, errors=errors, status_code=409)
    return RedirectResponse(f"/episodes/{episode_id}", status_code=303)


# --- bedside check and infusion ---------------------------------------------------------------


def _latest_check(session: Session, episode_id: uuid.UUID) -> BedsideCheck | None:
    return session.execute(
        select(BedsideCheck)
        .where(BedsideCheck.episode_id == episode_id)
        .order_by(BedsideCheck.first_scanned_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def _infusion_page(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    stop: CartflowError | None = None,
    status_code: int = 200,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    check = _latest_check(session, episode.id)
    check_out = (
        infusion_service.get_bedside_check(session, actor=actor, check_id=check.id)
        if check is not None
        else None
    )
    context = _base(
        actor,
        episode,
        check=check_out,
        awaiting_second=check is not None and check.status is BedsideCheckStatus.AWAITING_SECOND,
        verified=check is not None and check.status is BedsideCheckStatus.VERIFIED,
        i_scanned_first=check is not None and check.first_scanner_id == actor.id,
        infusion=clinical.infusion_of(session, episode),
        errors=errors or {},
        stop=stop,
        inert=stop is not None,
        meanings=MEANINGS,
    )
    return render(request, "infusion.html", context, actor=actor, status_code=status_code)


@router.get("/infusion")
def infusion_page(
    request: Request, episode_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    return _infusion_page(request, session, actor, episode_id)


@router.post("/bedside")
def bedside_scan(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    payload = filled(fields, "bag_scan", "wristband_scan", "password")
    check = _latest_check(session, episode_id)
    try:
        data = BedsideScanIn.model_validate(payload)
        if check is not None and check.status is BedsideCheckStatus.AWAITING_SECOND:
            infusion_service.confirm_bedside_check(
                session, actor=actor, check_id=check.id, data=data
            )
        else:
            infusion_service.start_bedside_check(
                session, actor=actor, episode_id=episode_id, data=data
            )
    except ValidationError as exc:
        return _infusion_page(
            request, session, actor, episode_id, errors=field_errors(exc), status_code=422
        )
    except BedsideCheckRefused as exc:
        session.rollback()
        return _infusion_page(request, session, actor, episode_id, stop=exc, status_code=409)
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        errors = signature_refusal(request, session, actor, exc)
        return _infusion_page(
            request, session, actor, episode_id, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse(f"/clinician/episodes/{episode_id}/infusion", status_code=303)


@router.post("/infusion")
def record_infusion(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    check = _latest_check(session, episode_id)
    zone = episode.center.timezone
    try:
        payload: dict[str, Any] = {
            **filled(fields, "cells_infused_1e6", "volume_ml", "bags", "deviation_reason", "notes"),
            "bedside_check_id": check.id if check else None,
            "complete": "complete" in fields,
        }
        for name in (
            "thaw_started_at",
            "thaw_completed_at",
            "infusion_started_at",
            "infusion_ended_at",
        ):
            payload[name] = _local(fields.get(name, ""), zone, name)
    except InvalidInput as exc:
        return _infusion_page(
            request, session, actor, episode_id, errors=refusal(session, exc), status_code=422
        )
    errors = _attempt(
        session,
        InfusionIn,
        payload,
        lambda data: infusion_service.record_infusion(
            session, actor=actor, episode_id=episode_id, data=data
        ),
    )
    if errors:
        return _infusion_page(request, session, actor, episode_id, errors=errors, status_code=409)
    return RedirectResponse(f"/episodes/{episode_id}", status_code=303)
