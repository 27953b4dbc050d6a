"""Clinician worklists, scoped to the centers where the user holds the role.

- Toxicity: patients whose latest current assessment (corrections replace what they supersede)
  shows CRS or ICANS grade 2 or more, worst first. Grade 2 is where the ASTCT-era guidelines start
  anti-cytokine therapy, so these are the patients to see now.
- Follow-up: visits due now or overdue (window closed, not done) for infused patients, by target
  date; a death on record stops the schedule.
Asking for a center where the user holds no such role is "not found", like any other record.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.dependencies import require_role
from cartflow.clinical.errors import ClinicalRecordNotFound
from cartflow.clinical.followup_schedule import due_and_overdue, followup_schedule
from cartflow.clinical.schemas_after import FollowUpWorklistRow, ToxicityWorklistRow
from cartflow.clinical.service import local_date
from cartflow.db.base import utcnow
from cartflow.i18n import _
from cartflow.models import Episode, EpisodeState, Patient, Product, Role, TreatmentCenter
from cartflow.models.clinical_infusion import Infusion
from cartflow.models.clinical_outcome import DeathRecord, FollowUpVisit
from cartflow.models.clinical_toxicity import ToxicityAssessment

WORKLIST_MIN_GRADE = 2
_ACTIVE = (EpisodeState.INFUSED, EpisodeState.FOLLOW_UP)


def _centers(
    session: Session, actor: Actor, roles: tuple[Role, ...], center_code: str | None
) -> dict[uuid.UUID, str]:
    require_role(actor, *roles)
    held = actor.center_ids(*roles)
    rows = session.execute(
        select(TreatmentCenter.id, TreatmentCenter.code).where(TreatmentCenter.id.in_(held))
    ).all()
    centers = {row.id: row.code for row in rows}
    if center_code is None:
        return centers
    chosen = {cid: code for cid, code in centers.items() if code == center_code}
    if not chosen:
        raise ClinicalRecordNotFound(
            _("no center {code!r} in your scope", code=center_code), field="center"
        )
    return chosen


def toxicity_worklist(
    session: Session, *, actor: Actor, center_code: str | None = None
) -> list[ToxicityWorklistRow]:
    centers = _centers(session, actor, (Role.CLINICIAN,), center_code)
    ta = ToxicityAssessment
    current = ta.id.not_in(select(ta.supersedes_id).where(ta.supersedes_id.is_not(None)))
    latest = (
        select(ta.episode_id, func.max(ta.assessed_at).label("at"))
        .where(current)
        .group_by(ta.episode_id)
        .subquery()
    )
    rows = session.execute(
        select(ta, Episode.state, Episode.center_id, Patient.pseudonym)
        .join(latest, and_(ta.episode_id == latest.c.episode_id, ta.assessed_at == latest.c.at))
        .join(Episode, Episode.id == ta.episode_id)
        .join(Patient, Patient.id == Episode.patient_id)
        .where(
            current,
            Episode.center_id.in_(centers),
            Episode.state.in_(_ACTIVE),
            or_(ta.crs_grade >= WORKLIST_MIN_GRADE, ta.icans_grade >= WORKLIST_MIN_GRADE),
        )
    ).all()
    by_episode: dict[uuid.UUID, ToxicityWorklistRow] = {}
    for assessment, state, center_id, pseudonym in rows:
        row = ToxicityWorklistRow(
            episode_id=assessment.episode_id,
            patient_pseudonym=pseudonym,
            center_code=centers[center_id],
            state=state,
            assessed_at=assessment.assessed_at,
            crs_grade=assessment.crs_grade,
            icans_grade=assessment.icans_grade,
        )
        kept = by_episode.get(row.episode_id)
        if kept is None or _worst(row) > _worst(kept):
            by_episode[row.episode_id] = row
    return sorted(by_episode.values(), key=lambda r: (-_worst(r), r.assessed_at))


def _worst(row: ToxicityWorklistRow) -> int:
    return max(row.crs_grade or 0, row.icans_grade or 0)


def followup_worklist(
    session: Session, *, actor: Actor, center_code: str | None = None, today: dt.date | None = None
) -> list[FollowUpWorklistRow]:
    centers = _centers(session, actor, (Role.CLINICIAN, Role.COORDINATOR), center_code)
    episodes = session.execute(
        select(
            Episode, Patient.pseudonym, Product.gene_modified, TreatmentCenter.timezone, Infusion
        )
        .join(Patient, Patient.id == Episode.patient_id)
        .join(Product, Product.id == Episode.product_id)
        .join(TreatmentCenter, TreatmentCenter.id == Episode.center_id)
        .outerjoin(Infusion, Infusion.episode_id == Episode.id)
        .where(Episode.center_id.in_(centers), Episode.state.in_(_ACTIVE))
    ).all()
    ids = [e.id for e, *_ in episodes]
    done: dict[uuid.UUID, dict[str, dt.date]] = {}
    for episode_id, key, on in session.execute(
        select(FollowUpVisit.episode_id, FollowUpVisit.visit_key, FollowUpVisit.completed_on).where(
            FollowUpVisit.episode_id.in_(ids)
        )
    ).all():
        done.setdefault(episode_id, {})[key] = on
    deaths = {
        episode_id: died_on
        for episode_id, died_on in session.execute(
            select(DeathRecord.episode_id, DeathRecord.died_on).where(
                DeathRecord.episode_id.in_(ids)
            )
        ).all()
    }
    rows: list[FollowUpWorklistRow] = []
    for episode, pseudonym, gene_modified, timezone, infusion in episodes:
        start = infusion.infusion_started_at if infusion is not None else episode.infused_at
        if start is None:
            continue
        day = today or local_date(utcnow(), timezone)
        visits = due_and_overdue(
            followup_schedule(local_date(start, timezone), gene_modified=gene_modified),
            today=day,
            completed=done.get(episode.id),
            stopped_on=deaths.get(episode.id),
        )
        rows.extend(
            FollowUpWorklistRow(
                episode_id=episode.id,
                patient_pseudonym=pseudonym,
                center_code=centers[episode.center_id],
                visit_key=v.visit.key,
                label=v.visit.label,
                target=v.visit.target,
                window_start=v.visit.window_start,
                window_end=v.visit.window_end,
                status=v.status,
            )
            for v in visits
        )
    return sorted(rows, key=lambda r: (r.target, r.patient_pseudonym))
