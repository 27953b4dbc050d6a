"""Eligibility at referral: one assessment records the findings and every failed rule; a passing
assessment moves the episode to eligible.

The indication (diagnosis, age, prior lines) is judged by the episode's own guard
(`cartflow.episodes.workflow.guard_eligibility`), called here so that a failing assessment lists it
with the other reasons, and again by `apply_transition` when the episode moves. A failing
assessment is kept (a clinical record of why the patient was not eligible) and the episode stays
referred.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.clinical.eligibility import EligibilityFindings, check_eligibility
from cartflow.clinical.errors import ClinicalRuleRefused, denied
from cartflow.clinical.phrases import english
from cartflow.clinical.schemas import EligibilityIn, EligibilityOut, RuleFailure
from cartflow.clinical.service import (
    CLINICAL_READERS,
    CLINICIANS,
    audit,
    clinical_episode,
    criteria_of,
    current_protocol,
    has_consent,
    local_date,
    move_episode,
)
from cartflow.db.base import utcnow
from cartflow.episodes.service import episode_facts
from cartflow.episodes.workflow import Denied, TransitionInput, guard_eligibility
from cartflow.i18n import Message, _
from cartflow.i18n.labels import state_in_text
from cartflow.models import EpisodeState
from cartflow.models.clinical import ClinicalProtocol, Consent, EligibilityAssessment


def assess_eligibility(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    data: EligibilityIn,
    now: dt.datetime | None = None,
) -> EligibilityOut:
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=episode_id,
        roles=CLINICIANS,
        action=_("an eligibility assessment"),
        lock=True,
    )
    if episode.state is not EpisodeState.REFERRED:
        raise ClinicalRuleRefused.from_denied(
            denied(
                "ELIG-STATE",
                _(
                    "eligibility is assessed at referral; the episode is {state}",
                    state=state_in_text(episode.state),
                ),
            )
        )
    moment = now or utcnow()
    facts = episode_facts(episode, today=local_date(moment, episode.center.timezone))
    indication = guard_eligibility(facts, TransitionInput())
    protocol = current_protocol(session, episode.product_id)
    criteria = criteria_of(protocol)
    findings = EligibilityFindings(
        ecog=data.ecog, karnofsky_lansky=data.karnofsky_lansky, labs=data.labs
    )
    on_record = session.execute(select(Consent).where(Consent.episode_id == episode.id)).scalars()
    failures = check_eligibility(
        criteria,
        findings,
        consent_on_record=has_consent(on_record),
        indication=indication if isinstance(indication, Denied) else None,
    )
    record = EligibilityAssessment(
        episode_id=episode.id,
        assessed_at=moment,
        assessed_by_id=actor.id,
        protocol_id=protocol.id if protocol else None,
        criteria=criteria.model_dump(mode="json"),
        findings=findings.model_dump(mode="json"),
        eligible=not failures,
        failures=[failure_record(f) for f in failures],
        notes=data.notes,
    )
    session.add(record)
    audit(
        session,
        actor=actor,
        record_type="eligibility_assessment",
        record=record,
        action="create",
    )
    if record.eligible:
        move_episode(
            session,
            actor=actor,
            episode=episode,
            transition="confirm_eligibility",
            reason=f"eligibility assessment {record.id}",
            now=moment,
        )
    return eligibility_out(record, protocol, episode.state)


def failure_record(failure: Denied) -> dict[str, object]:
    """A failed rule as the assessment keeps it: the code, the English message, and the message's
    id and values so that a Russian reader is shown the same sentence in Russian later."""
    record: dict[str, object] = {"code": failure.code, "message": english(failure.message)}
    message: object = failure.message
    if type(message) is Message:
        record["msgid"] = message.msgid
        record["params"] = {name: english(value) for name, value in message.params.items()}
    return record


def failure_out(record: dict[str, object]) -> RuleFailure:
    msgid, params = record.get("msgid"), record.get("params")
    if isinstance(msgid, str) and isinstance(params, dict):
        return RuleFailure(code=str(record["code"]), message=str(Message(msgid, **params)))
    return RuleFailure.model_validate(record)


def eligibility_out(
    record: EligibilityAssessment, protocol: ClinicalProtocol | None, state: EpisodeState
) -> EligibilityOut:
    return EligibilityOut(
        id=record.id,
        episode_id=record.episode_id,
        assessed_at=record.assessed_at,
        eligible=record.eligible,
        failures=[failure_out(f) for f in record.failures],
        protocol_version=protocol.version if protocol else 0,
        episode_state=state,
    )


def eligibility_assessments(
    session: Session, *, actor: Actor, episode_id: uuid.UUID
) -> list[EligibilityOut]:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    rows = session.execute(
        select(EligibilityAssessment, ClinicalProtocol)
        .outerjoin(ClinicalProtocol, ClinicalProtocol.id == EligibilityAssessment.protocol_id)
        .where(EligibilityAssessment.episode_id == episode.id)
        .order_by(EligibilityAssessment.assessed_at)
    ).all()
    return [eligibility_out(r, p, episode.state) for r, p in rows]
