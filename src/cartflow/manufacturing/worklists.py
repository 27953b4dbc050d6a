"""Worklists of the site's QC laboratory and its qualified persons, scoped to the sites where the
user holds that role.

QC: for each batch in QC, the required tests still without a result (awaiting entry) and the
results not yet verified (awaiting verification; the user's own entries are marked, since the
four-eyes rule keeps them for a colleague). Qualified person: the batches awaiting disposition,
whether each is ready (every required result present and verified), what blocks it, what is out of
specification, whether the physician's request is on record, and whether this user may sign.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.dependencies import require_role
from cartflow.i18n import gettext
from cartflow.manufacturing import workflow
from cartflow.manufacturing.records import batch_results, superseded_ids
from cartflow.manufacturing.schemas import PendingVerification, QcWorkItem, QpWorkItem
from cartflow.manufacturing.signing import disposition_facts, pending_disposition
from cartflow.manufacturing.views import People
from cartflow.models import Episode, Product, Role
from cartflow.models.manufacturing import Batch, BatchState


def _batches(
    session: Session, actor: Actor, role: Role, states: tuple[BatchState, ...]
) -> list[tuple[Batch, Episode, Product]]:
    sites = actor.site_ids(role)
    rows = session.execute(
        select(Batch, Episode, Product)
        .join(Episode, Episode.id == Batch.episode_id)
        .join(Product, Product.id == Batch.product_id)
        .where(Batch.site_id.in_(sites), Batch.state.in_(states))
        .order_by(Batch.submitted_for_qc_at, Batch.din)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def qc_worklist(session: Session, *, actor: Actor) -> list[QcWorkItem]:
    require_role(actor, Role.QC_ANALYST)
    items: list[QcWorkItem] = []
    for batch, episode, product in _batches(session, actor, Role.QC_ANALYST, (BatchState.IN_QC,)):
        facts = disposition_facts(session, batch)
        results = batch_results(session, batch.id)
        gone = superseded_ids(results)
        current = [r for r in results if r.id not in gone]
        have = {r.test for r in current}
        unverified = [r for r in current if r.verified_by_id is None]
        people = People(session, {r.entered_by_id for r in unverified})
        items.append(
            QcWorkItem(
                batch_id=batch.id,
                din=batch.din,
                chain_of_identity=episode.chain_of_identity,
                product_code=product.code,
                submitted_for_qc_at=batch.submitted_for_qc_at,
                awaiting_entry=[t for t in facts.required_tests if t not in have],
                awaiting_verification=[
                    PendingVerification(
                        result_id=r.id,
                        test=r.test,
                        entered_by=people[r.entered_by_id],
                        entered_at=r.entered_at,
                        within_spec=r.within_spec,
                        entered_by_you=r.entered_by_id == actor.id,
                    )
                    for r in unverified
                ],
                out_of_specification=list(facts.out_of_specification),
            )
        )
    return [i for i in items if i.awaiting_entry or i.awaiting_verification]


def qp_worklist(session: Session, *, actor: Actor) -> list[QpWorkItem]:
    require_role(actor, Role.QUALIFIED_PERSON)
    waiting = (BatchState.IN_QC, BatchState.AWAITING_SECOND_SIGNATURE)
    items: list[QpWorkItem] = []
    for batch, episode, product in _batches(session, actor, Role.QUALIFIED_PERSON, waiting):
        facts = disposition_facts(session, batch)
        # The worklist is read in the reader's language: render the reasons now.
        blocking = [str(d.message) for d in workflow.readiness(facts)]
        pending = pending_disposition(session, batch.id)
        if facts.out_of_specification and not facts.has_exceptional_request:
            blocking.append(
                gettext("out of specification: awaiting the treating physician's request")
            )
        first = People(session, {pending.signer_id})[pending.signer_id] if pending else None
        may_sign = actor.id not in facts.testers() and (
            pending is None or pending.signer_id != actor.id
        )
        items.append(
            QpWorkItem(
                batch_id=batch.id,
                din=batch.din,
                chain_of_identity=episode.chain_of_identity,
                product_code=product.code,
                state=batch.state,
                submitted_for_qc_at=batch.submitted_for_qc_at,
                ready=not workflow.readiness(facts),
                blocking=blocking,
                out_of_specification=list(facts.out_of_specification),
                exceptional_request=facts.has_exceptional_request,
                first_signer=first,
                you_may_sign=may_sign,
            )
        )
    return items
