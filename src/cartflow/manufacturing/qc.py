"""QC results: an analyst enters each result, a different analyst verifies it, a retest supersedes.

Invariants: results are entered only while the batch is in QC, for the tests of the specification
version the batch records; a value outside the test's physical range is refused (422, field
`value`), a value outside the specification is kept and flagged with the limit it fails; the
analyst who entered a result never verifies it (checked here and by a database constraint); a
retest is a new attempt linked to the one it supersedes, with a reason, and needs its own
verification.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.auth.actor import Actor
from cartflow.db.base import utcnow
from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.manufacturing import workflow
from cartflow.manufacturing.access import episode_of, get_batch, require_roles
from cartflow.manufacturing.errors import QcResultNotFound
from cartflow.manufacturing.records import (
    audit,
    audit_change,
    batch_results,
    refuse,
    result_facts,
    specification_of,
)
from cartflow.manufacturing.schemas import QcResultIn, RetestIn
from cartflow.manufacturing.specs import (
    TESTS,
    Criterion,
    Judgement,
    judge,
    normalise_value,
    parse_criteria,
)
from cartflow.models import Episode, Patient, ReleaseSpecification, Role
from cartflow.models.manufacturing import Batch
from cartflow.models.manufacturing_qc import QcResult


def _criterion(
    session: Session, batch: Batch, test_name: str
) -> tuple[ReleaseSpecification, Criterion]:
    if test_name not in TESTS:
        known = ", ".join(sorted(TESTS))
        raise InvalidInput(
            _("unknown test {test!r}; known: {known}", test=test_name, known=known), field="test"
        )
    spec = specification_of(session, batch)
    assert spec is not None  # set when the batch entered QC
    criteria = parse_criteria(spec.criteria).criteria
    if test_name not in criteria:
        tests = ", ".join(criteria)
        raise InvalidInput(
            _(
                "specification version {version} does not test {test}; it tests: {tests}",
                version=spec.version,
                test=test_name,
                tests=tests,
            ),
            field="test",
        )
    return spec, criteria[test_name]


def _judge(
    session: Session, batch: Batch, episode: Episode, test_name: str, value: float | str
) -> tuple[ReleaseSpecification, float | str, Judgement]:
    spec, criterion = _criterion(session, batch, test_name)
    clean = normalise_value(TESTS[test_name], value)
    patient = session.get(Patient, episode.patient_id)
    assert patient is not None and batch.patient_weight_kg is not None
    judgement = judge(
        test_name,
        criterion,
        clean,
        weight_kg=batch.patient_weight_kg,
        diagnosis=patient.diagnosis,
    )
    return spec, clean, judgement


def _new_result(
    *,
    batch: Batch,
    test_name: str,
    spec: ReleaseSpecification,
    value: float | str,
    judgement: Judgement,
    method: str,
    comment: str,
    actor: Actor,
    now: dt.datetime,
    supersedes: QcResult | None = None,
    reason: str = "",
) -> QcResult:
    return QcResult(
        batch_id=batch.id,
        test=test_name,
        attempt=supersedes.attempt + 1 if supersedes else 1,
        supersedes_id=supersedes.id if supersedes else None,
        retest_reason=reason,
        value_number=value if isinstance(value, float) else None,
        value_text=value if isinstance(value, str) else None,
        unit=TESTS[test_name].unit,
        method=method,
        comment=comment,
        specification_id=spec.id,
        within_spec=judgement.within_spec,
        failed_limit=judgement.failed_limit,
        compared_value=judgement.compared_value,
        entered_by_id=actor.id,
        entered_at=now,
    )


def enter_result(
    session: Session,
    *,
    actor: Actor,
    batch_id: uuid.UUID,
    data: QcResultIn,
    now: dt.datetime | None = None,
) -> QcResult:
    now = now or utcnow()
    batch = get_batch(session, actor=actor, batch_id=batch_id, for_update=True)
    episode = episode_of(session, batch)
    require_roles(actor, episode, Role.QC_ANALYST, action=_("entering a QC result"))
    refuse(workflow.guard_results_open(batch.state), field="batch")
    spec, value, judgement = _judge(session, batch, episode, data.test, data.value)
    facts = result_facts(batch_results(session, batch.id))
    refuse(workflow.guard_enter_result(batch.state, test=data.test, current=facts), field="test")
    result = _new_result(
        batch=batch,
        test_name=data.test,
        spec=spec,
        value=value,
        judgement=judgement,
        method=data.method,
        comment=data.comment,
        actor=actor,
        now=now,
    )
    session.add(result)
    session.flush()
    audit(session, actor, "qc_result", result.id, "create", after=snapshot(result))
    return result


def _result_and_batch(
    session: Session, *, actor: Actor, result_id: uuid.UUID
) -> tuple[QcResult, Batch, Episode]:
    result = session.get(QcResult, result_id)
    if result is None:
        raise QcResultNotFound(_("no QC result {result}", result=result_id))
    # Scope through the batch: a result of another site's batch is "not found" too.
    batch = get_batch(session, actor=actor, batch_id=result.batch_id, for_update=True)
    return result, batch, episode_of(session, batch)


def _facts_of(session: Session, result: QcResult) -> workflow.ResultFacts:
    facts = result_facts(batch_results(session, result.batch_id))
    return next(f for f in facts if f.id == result.id)


def retest(
    session: Session,
    *,
    actor: Actor,
    result_id: uuid.UUID,
    data: RetestIn,
    now: dt.datetime | None = None,
) -> QcResult:
    """A new attempt of the same test that supersedes `result_id` (an OOS investigation that found
    a laboratory error, a lost sample); the superseded result stays on record."""
    now = now or utcnow()
    old, batch, episode = _result_and_batch(session, actor=actor, result_id=result_id)
    require_roles(actor, episode, Role.QC_ANALYST, action=_("entering a retest"))
    refuse(workflow.guard_retest(batch.state, _facts_of(session, old)), field="batch")
    spec, value, judgement = _judge(session, batch, episode, old.test, data.value)
    result = _new_result(
        batch=batch,
        test_name=old.test,
        spec=spec,
        value=value,
        judgement=judgement,
        method=data.method or old.method,
        comment=data.comment,
        actor=actor,
        now=now,
        supersedes=old,
        reason=data.reason,
    )
    session.add(result)
    session.flush()
    audit(
        session,
        actor,
        "qc_result",
        result.id,
        "retest",
        before=snapshot(old),
        after=snapshot(result),
        reason=data.reason,
    )
    return result


def verify_result(
    session: Session, *, actor: Actor, result_id: uuid.UUID, now: dt.datetime | None = None
) -> QcResult:
    now = now or utcnow()
    result, batch, episode = _result_and_batch(session, actor=actor, result_id=result_id)
    require_roles(actor, episode, Role.QC_ANALYST, action=_("verifying a QC result"))
    refuse(workflow.guard_verify(batch.state, _facts_of(session, result), verifier=actor.id))
    before = snapshot(result)
    result.verified_by_id = actor.id
    result.verified_at = now
    session.flush()
    audit_change(
        session, actor, "qc_result", result.id, "verify", before=before, after=snapshot(result)
    )
    return result
