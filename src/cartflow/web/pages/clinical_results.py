"""Results after infusion for the clinician (issue #10): blood counts (with the ICAHT grades the
clinical service computes from them), response assessments (B-ALL remission, Lugano PET-CT: the
service classifies) and a patient's death. Recording and every rule are
`cartflow.clinical.counts_service` and `cartflow.clinical.outcome_service`, validated by their
schemas (`cartflow.clinical.schemas_after`); a refusal re-shows the form with the message beside
its field and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical import counts_service, outcome_service
from cartflow.clinical.response import (
    BallResponse,
    DeathCause,
    ImwgResponse,
    LuganoResponse,
    UptakeChange,
)
from cartflow.clinical.schemas_after import BloodCountsIn, DeathIn, ResponseIn
from cartflow.db.base import utcnow
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.errors import CartflowError, InvalidInput
from cartflow.i18n import _
from cartflow.models import Diagnosis, Episode, Role
from cartflow.models.clinical_outcome import ResponseFramework
from cartflow.models.clinical_toxicity import BloodCount
from cartflow.web import views
from cartflow.web.forms import FormFields, field_errors, filled, refusal
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/clinician/episodes/{episode_id}/results")

DEATH_CAUSES = (
    (DeathCause.DISEASE, _("Disease progression or relapse")),
    (DeathCause.CRS, _("Cytokine release syndrome")),
    (DeathCause.ICANS, _("ICANS")),
    (DeathCause.IEC_HS, _("IEC-HS")),
    (DeathCause.INFECTION, _("Infection")),
    (DeathCause.SECOND_MALIGNANCY, _("Second malignancy")),
    (DeathCause.OTHER, _("Other")),
)
RESPONSE_LABELS = {
    LuganoResponse.COMPLETE.value: _("complete response"),
    LuganoResponse.PARTIAL.value: _("partial response"),
    LuganoResponse.STABLE.value: _("stable disease"),
    LuganoResponse.PROGRESSIVE.value: _("progressive disease"),
    ImwgResponse.STRINGENT_COMPLETE.value: _("stringent complete response"),
    ImwgResponse.VERY_GOOD_PARTIAL.value: _("very good partial response"),
    ImwgResponse.MINIMAL.value: _("minimal response"),
    BallResponse.COMPLETE.value: _("complete remission"),
    BallResponse.COMPLETE_INCOMPLETE_RECOVERY.value: _(
        "complete remission with incomplete count recovery"
    ),
    BallResponse.NO_RESPONSE.value: _("no response"),
}
UPTAKE = (
    (UptakeChange.REDUCED.value, _("reduced")),
    (UptakeChange.UNCHANGED.value, _("unchanged")),
    (UptakeChange.INCREASED.value, _("increased")),
)
# The form each diagnosis is assessed with on this page (IMWG and Lugano CT: API only, so far).
RESPONSE_FORM = {Diagnosis.B_ALL: ResponseFramework.B_ALL}
RESPONSE_FIELDS = {
    ResponseFramework.B_ALL: (
        ("marrow_blasts_pct", "anc_10e9_per_l", "platelets_10e9_per_l", "mrd_flow_pct"),
        ("circulating_blasts", "extramedullary_disease", "transfusion_independent"),
    ),
    ResponseFramework.LUGANO_PET: (
        ("deauville", "uptake_vs_baseline"),
        (
            "new_fdg_avid_lesions",
            "new_or_recurrent_marrow_involvement",
            "residual_fdg_avid_marrow",
        ),
    ),
}
_RESPONSE = TypeAdapter[ResponseIn](ResponseIn)
COUNT_FIELDS = ("sampled_on", "anc_per_ul", "platelets_10e9_per_l", "platelet_transfusion")


def response_framework(episode: Episode) -> ResponseFramework | None:
    diagnosis = episode.patient.diagnosis
    if diagnosis.is_b_nhl:
        return ResponseFramework.LUGANO_PET
    return RESPONSE_FORM.get(diagnosis)


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID,
    *,
    form: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    try:
        grades = counts_service.icaht(session, actor=actor, episode_id=episode_id)
        no_grades = ""
    except CartflowError as exc:
        grades, no_grades = None, exc.message
    counts = list(
        session.execute(
            select(BloodCount)
            .where(BloodCount.episode_id == episode.id)
            .order_by(BloodCount.sampled_on)
        ).scalars()
    )
    context: dict[str, Any] = {
        "episode": episode,
        "patient_label": views.patient_label(actor, episode),
        "zone": episode.center.timezone,
        "counts": counts,
        "grades": grades,
        "no_grades": no_grades,
        "death": outcome_service.death_of(session, episode.id),
        "responses": outcome_service.list_responses(session, actor=actor, episode_id=episode.id),
        "response_labels": {k: str(v) for k, v in RESPONSE_LABELS.items()},
        "framework": response_framework(episode),
        "uptake": [(k, str(v)) for k, v in UPTAKE],
        "causes": [(c.value, str(label)) for c, label in DEATH_CAUSES],
        "form": form,
        "errors": errors or {},
        "values": values or {},
        "now": utcnow(),
    }
    return render(request, "clinical_results.html", context, actor=actor, status_code=status_code)


@router.get("")
def results_page(
    request: Request, episode_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    require_page_role(actor, Role.CLINICIAN)
    return _page(request, session, actor, episode_id)


def _refused(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID,
    form: str,
    values: dict[str, str],
    exc: ValidationError | CartflowError,
) -> Response:
    if isinstance(exc, ValidationError):
        errors = {
            k.removeprefix("counts.0.").split(".")[-1]: v for k, v in field_errors(exc).items()
        }
        status = 422
    else:
        if exc.status_code == 404:
            raise exc
        # The service names a whole count "counts.0": on this one-count form, that is the form.
        errors = {
            ("form" if k == "counts.0" else k.removeprefix("counts.0.")): v
            for k, v in refusal(session, exc).items()
        }
        status = exc.status_code
    return _page(
        request,
        session,
        actor,
        episode_id,
        form=form,
        errors=errors,
        values=values,
        status_code=status,
    )


@router.post("/counts")
def record_counts(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    require_page_role(actor, Role.CLINICIAN)
    values = filled(fields, *COUNT_FIELDS)
    try:
        data = BloodCountsIn.model_validate({"counts": [values]})
        counts_service.record_blood_counts(session, actor=actor, episode_id=episode_id, data=data)
    except (ValidationError, CartflowError) as exc:
        return _refused(request, session, actor, episode_id, "counts", values, exc)
    return RedirectResponse(f"/clinician/episodes/{episode_id}/results", status_code=303)


@router.post("/death")
def record_death(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    require_page_role(actor, Role.CLINICIAN)
    values = filled(fields, "died_on", "cause", "notes")
    try:
        data = DeathIn.model_validate(values)
        outcome_service.record_death(session, actor=actor, episode_id=episode_id, data=data)
    except (ValidationError, CartflowError) as exc:
        return _refused(request, session, actor, episode_id, "death", values, exc)
    return RedirectResponse(f"/clinician/episodes/{episode_id}/results", status_code=303)


@router.post("/response")
def record_response(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    require_page_role(actor, Role.CLINICIAN)
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    framework = response_framework(episode)
    if framework is None:
        raise InvalidInput(
            _("this page has no response form for the patient's diagnosis: use the API"),
            field="framework",
        )
    numbers, flags = RESPONSE_FIELDS[framework]
    values = filled(fields, "assessed_on", "notes", *numbers)
    # An unticked box is not posted: it means "no".
    payload: dict[str, object] = {
        **values,
        **{flag: fields.get(flag) == "true" for flag in flags},
        "framework": framework.value,
    }
    try:
        data = _RESPONSE.validate_python(payload)
        outcome_service.record_response(session, actor=actor, episode_id=episode_id, data=data)
    except (ValidationError, CartflowError) as exc:
        shown = values | {flag: "true" for flag in flags if fields.get(flag) == "true"}
        return _refused(request, session, actor, episode_id, "response", shown, exc)
    return RedirectResponse(f"/clinician/episodes/{episode_id}/results", status_code=303)
