"""Hand-offs: each container scanned against the expected episode and step, or the hand-off stops.

Invariants:
- a refused scan (another episode's container, an unknown, consumed or quarantined one, a wrong
  check character, an expired product, a container not due at this step) is a hard stop: nothing
  moves, and a deviation per refused scan is opened. The refusal is *returned* in the outcome,
  not raised, so the request commits the deviation and its audit event (like a failed log-in);
- a hand-off is all or nothing: every scan is judged before anything is written;
- a container takes a step once: a repeated scan returns the recorded event (idempotent), and the
  unique (container, step) constraint backs this up when scans race; scans of one episode are
  serialised by locking the episode row (PostgreSQL) or BEGIN IMMEDIATE (SQLite);
- a two-person step needs a second, different user with a role for the step, who signs the
  hand-off with their password; a wrong password refuses the hand-off and writes nothing;
- the step that completes collection, the product's pick-up or its receipt at the center moves
  the episode (`record_apheresis`, `ship`, `receive`) on behalf of this domain.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from cartflow.audit.signatures import SignatureRefused, sign
from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import episode_scope, roles_on_episode
from cartflow.db.base import utcnow
from cartflow.episodes.errors import EpisodeNotFound
from cartflow.episodes.schemas import TransitionRequest
from cartflow.episodes.service import apply_transition
from cartflow.episodes.workflow import TRANSITIONS
from cartflow.errors import Conflict, InvalidInput
from cartflow.i18n import _
from cartflow.i18n.labels import roles_listing, state_in_text, states_listing
from cartflow.logistics import receipts
from cartflow.logistics.containers import (
    set_container_status,
)
from cartflow.logistics.errors import NoShipment, SamePerson, SecondPersonRequired, StepNotNow
from cartflow.logistics.labels import step_in_text
from cartflow.logistics.scans import (
    Move,
    existing_event,
    handoff_content,
    judge_scans,
    open_deviation,
    parse_scans,
    record_move,
)
from cartflow.logistics.shipments import open_shipment
from cartflow.logistics.workflow import (
    OWNER,
    STEPS,
    ShipmentLeg,
    StepRule,
    Verdict,
    kinds_at,
    next_step,
)
from cartflow.models import Episode, User
from cartflow.models.custody import (
    ContainerKind,
    ContainerStatus,
    CustodyContainer,
    CustodyDeviation,
    CustodyEvent,
    HandoffStep,
)
from cartflow.models.logistics_shipment import Quarantine, Shipment, ShipmentStatus


@dataclass(frozen=True)
class Witness:
    """The second person of a two-person step, confirming with their own password."""

    username: str
    password: str


@dataclass(frozen=True)
class ScanResult:
    raw: str
    din: str | None
    container_id: uuid.UUID | None
    verdict: Verdict


_RACED = Verdict(
    True, None, _("recorded by a simultaneous scan of the same container"), duplicate=True
)


class HandoffRefused(Conflict):
    """A hard stop; its `code` is the rule of the first refused scan."""

    code = "CUSTODY-HANDOFF-REFUSED"


@dataclass
class HandoffOutcome:
    step: HandoffStep
    episode: Episode
    results: list[ScanResult]
    handoff_id: uuid.UUID | None = None
    events: list[CustodyEvent] = field(default_factory=list)
    deviations: list[CustodyDeviation] = field(default_factory=list)
    refusal: HandoffRefused | None = None
    transition: str | None = None
    quarantine: Quarantine | None = None

    @property
    def accepted(self) -> bool:
        return self.refusal is None


def _lock_episode(session: Session, *, actor: Actor, episode_id: uuid.UUID) -> Episode:
    # One statement locks the row and loads what a hand-off reads (not the product's
    # indications): a round trip per hand-off instead of three. FOR UPDATE OF episode only:
    # PostgreSQL cannot lock the nullable side of the outer joins.
    locked = (
        session.execute(
            select(Episode)
            .where(Episode.id == episode_id, episode_scope(actor))
            .options(
                joinedload(Episode.patient),
                joinedload(Episode.product),
                joinedload(Episode.center),
                joinedload(Episode.manufacturing_site),
            )
            .with_for_update(of=Episode)
        )
        .unique()
        .scalar_one_or_none()
    )
    if locked is None:
        raise EpisodeNotFound(_("no episode {episode_id}", episode_id=episode_id))
    return locked


def _second_person(
    session: Session, *, actor: Actor, episode: Episode, rule: StepRule, witness: Witness | None
) -> Actor | None:
    if not rule.two_person:
        if witness is not None:
            raise InvalidInput(
                _("{step} is done by one person", step=step_in_text(rule.step)), field="witness"
            )
        return None
    if witness is None:
        raise SecondPersonRequired(
            _(
                "{step} needs a second person to confirm with their own password",
                step=step_in_text(rule.step),
            )
        )
    user = session.execute(
        select(User).where(User.username == witness.username)
    ).scalar_one_or_none()
    if user is None or not user.is_active:
        raise SignatureRefused(
            _("the second person's username or password is wrong"), field="witness"
        )
    if user.id == actor.id:
        raise SamePerson(
            _(
                "{step} needs two different people; {username} cannot confirm their own scan",
                step=step_in_text(rule.step),
                username=user.username,
            )
        )
    second = Actor(user)
    if not roles_on_episode(second, episode) & rule.roles:
        names = roles_listing(rule.roles)
        raise RoleRequired(
            _("the second person needs one of the roles {names} for this episode", names=names)
        )
    return second


def _pending(session: Session, episode: Episode, step: HandoffStep) -> list[CustodyContainer]:
    """The episode's live containers still due at `step`."""
    rows = session.execute(
        select(CustodyContainer).where(
            CustodyContainer.episode_id == episode.id,
            CustodyContainer.kind.in_(kinds_at(step)),
            CustodyContainer.status.in_([ContainerStatus.IN_USE, ContainerStatus.QUARANTINED]),
        )
    ).scalars()
    return [c for c in rows if next_step(c.kind, c.last_step) is step]


def _shipment(
    session: Session, rule: StepRule, episode: Episode, shipment_id: uuid.UUID | None
) -> Shipment | None:
    if rule.shipment_leg is None:
        return None
    statuses = (
        frozenset({ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT})
        if rule.shipment_leg is ShipmentLeg.PICKUP
        else frozenset({ShipmentStatus.IN_TRANSIT})
    )
    shipment = open_shipment(
        session,
        episode=episode,
        materials=rule.materials,
        statuses=statuses,
        shipment_id=shipment_id,
    )
    if shipment is None:
        if rule.shipment_leg is ShipmentLeg.PICKUP:
            message = _(
                "{step} needs a planned shipment of this episode's material",
                step=step_in_text(rule.step),
            )
        else:
            message = _(
                "{step} needs an in-transit shipment of this episode's material",
                step=step_in_text(rule.step),
            )
        raise NoShipment(message)
    return shipment


def record_handoff(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    step: HandoffStep,
    scans: Sequence[str],
    location: str = "",
    temperature_c: float | None = None,
    witness: Witness | None = None,
    shipment_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> HandoffOutcome:
    """Judge every scan; record the hand-off if all pass, else open deviations and say why."""
    rule = STEPS[step]
    if not scans:
        raise InvalidInput(_("a hand-off needs at least one scan"), field="scans")
    parsed = parse_scans(scans)
    moment = now or utcnow()
    episode = _lock_episode(session, actor=actor, episode_id=episode_id)
    if not roles_on_episode(actor, episode) & rule.roles:
        names = roles_listing(rule.roles)
        raise RoleRequired(
            _(
                "{step} needs one of the roles {names} for this episode",
                step=step_in_text(step),
                names=names,
            )
        )
    if episode.state not in rule.episode_states:
        allowed = states_listing(rule.episode_states)
        raise StepNotNow(
            _(
                "{step} happens when the episode is {allowed}; it is {state}",
                step=step_in_text(step),
                allowed=allowed,
                state=state_in_text(episode.state),
            )
        )
    second = _second_person(session, actor=actor, episode=episode, rule=rule, witness=witness)
    judged = judge_scans(session, episode=episode, step=step, scans=parsed, now=moment)
    results = [
        ScanResult(scan.raw, scan.din.value if scan.din else None, c.id if c else None, verdict)
        for scan, c, verdict in judged
    ]
    outcome = HandoffOutcome(step=step, episode=episode, results=results)
    refused = [(scan, c, verdict) for scan, c, verdict in judged if not verdict.accepted]
    if refused:
        for scan, container, verdict in refused:
            outcome.deviations.append(
                open_deviation(
                    session,
                    actor=actor,
                    episode=episode,
                    step=step,
                    scan=scan,
                    container=container,
                    verdict=verdict,
                    location=location,
                    now=moment,
                )
            )
        first = refused[0][2]
        outcome.refusal = HandoffRefused(
            _("{rule}: {reason}", rule=first.rule, reason=first.message),
            code=first.rule or HandoffRefused.code,
        )
        return outcome

    fresh = [(scan, c) for scan, c, verdict in judged if not verdict.duplicate and c is not None]
    fresh_ids = {c.id for _, c in fresh}
    for _scan, container, verdict in judged:
        # A container scanned twice in this request gets its event once, when it is written.
        if verdict.duplicate and container is not None and container.id not in fresh_ids:
            outcome.events.append(existing_event(session, container, step))
            fresh_ids.add(container.id)
    if not fresh:
        return outcome
    move = Move(
        actor=actor,
        episode=episode,
        rule=rule,
        handoff_id=uuid.uuid4(),
        location=location,
        temperature_c=temperature_c,
        shipment=_shipment(session, rule, episode, shipment_id),
        witness=second,
        now=moment,
    )
    outcome.handoff_id = move.handoff_id
    new_events = []
    for scan, container in fresh:
        event, created = record_move(session, move, scan, container)
        outcome.events.append(event)
        if created:
            new_events.append(event)
        else:
            outcome.results = [
                ScanResult(r.raw, r.din, r.container_id, _RACED)
                if r.container_id == container.id
                else r
                for r in outcome.results
            ]
    if not new_events:
        return outcome
    if second is not None and witness is not None and rule.witness_meaning is not None:
        signature = sign(
            session,
            actor=second,
            password=witness.password,
            meaning=rule.witness_meaning,
            record_type="custody_handoff",
            record_id=move.handoff_id,
            record_content=handoff_content(new_events),
        )
        for event in new_events:
            event.witness_signature_id = signature.id
        session.flush()
    if step is HandoffStep.CRYOPRESERVATION:
        _consume_collection_bags(session, actor=actor, episode=episode)
    if move.shipment is not None:
        outcome.quarantine = receipts.after_shipment_scan(
            session, actor=actor, shipment=move.shipment, rule=rule, now=moment
        )
    outcome.transition = _complete(session, actor=actor, episode=episode, rule=rule, now=moment)
    return outcome


def _consume_collection_bags(session: Session, *, actor: Actor, episode: Episode) -> None:
    """The collection bags received at the site are used up by the batch that was frozen."""
    bags = session.execute(
        select(CustodyContainer)
        .where(
            CustodyContainer.episode_id == episode.id,
            CustodyContainer.kind == ContainerKind.COLLECTION_BAG,
            CustodyContainer.status == ContainerStatus.IN_USE,
            CustodyContainer.last_step == HandoffStep.SITE_RECEIPT,
        )
        .order_by(CustodyContainer.din)
    ).scalars()
    for bag in bags:
        set_container_status(
            session,
            actor=actor.as_audit_actor(),
            container=bag,
            status=ContainerStatus.CONSUMED,
            reason="used by the batch whose product was cryopreserved",
            action="consume",
        )


def _complete(
    session: Session, *, actor: Actor, episode: Episode, rule: StepRule, now: dt.datetime
) -> str | None:
    """Move the episode when this step's last due container has been scanned."""
    if rule.transition is None:
        return None
    transition = TRANSITIONS[rule.transition]
    if episode.state not in transition.sources or _pending(session, episode, rule.step):
        return None
    apply_transition(
        session,
        actor=actor,
        episode_id=episode.id,
        request=TransitionRequest(
            transition=rule.transition, reason=f"custody hand-off: {rule.step.value}"
        ),
        now=now,
        on_behalf_of=OWNER,
    )
    return rule.transition
