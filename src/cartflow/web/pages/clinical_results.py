"""Results after infusion for the clinician (issue #10): blood counts (with the ICAHT grades the
clinical service computes from them) and a patient's death. Recording and every rule are
`cartflow.clinical.counts_service` and `cartflow.clinical.outcome_service`, validated by their
schemas (`cartflow.clinical.schemas_after`); a refusal re-shows the form with the message beside
its field and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical import counts_service, outcome_service
from cartflow.clinical.response import DeathCause
from cartflow.clinical.schemas_after import BloodCountsIn, DeathIn
from cartflow.db.base import utcnow
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.errors import CartflowError
from cartflow.i18n import _
from cartflow.models import Role
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
COUNT_FIELDS = ("sampled_on", "anc_per_ul", "platelets_10e9_per_l", "platelet_transfusion")


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
        errors = {k.removeprefix("counts.0."): v for k, v in field_errors(exc).items()}
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
