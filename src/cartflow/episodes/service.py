"""Treatment episodes: referral, reading in scope, and every move along the vein-to-vein path.

Invariants: an episode is one product for one patient of the referring center; its chain of
identity identifier is assigned at referral and never reused; its state changes only through
`apply_transition`, which checks the transition's role and guard, records the step, and writes the
audit event in the same transaction; a stale `expected_version` is refused rather than overwritten.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import diff, record_event
from cartflow.auth.actor import Actor
from cartflow.auth.dependencies import require_role
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import can_read_episodes, episode_scope, roles_on_episode
from cartflow.db.base import utcnow
from cartflow.episodes import workflow
from cartflow.episodes.errors import EpisodeNotFound, TransitionRefused, UnknownTransition
from cartflow.episodes.patients import get_patient
from cartflow.episodes.schemas import EpisodeCreate, EpisodeOut, TransitionRequest
from cartflow.errors import Conflict, InvalidInput
from cartflow.i18n import _
from cartflow.identity.isbt128 import ChainOfIdentityId, make_coi
from cartflow.identity.sequences import next_sequence
from cartflow.models import (
    Episode,
    EpisodeState,
    EpisodeStateChange,
    ManufacturingSite,
    Product,
    Role,
)


def _with_relations(stmt: Select[Episode]) -> Select[Episode]:
    return stmt.options(
        joinedload(Episode.patient),
        joinedload(Episode.product).selectinload(Product.indications),
        joinedload(Episode.center),
        joinedload(Episode.manufacturing_site),
    )


def _audit_snapshot(episode: Episode) -> dict[str, object]:
    return snapshot(episode, exclude=frozenset({"created_at", "updated_at"}))


def assign_chain_of_identity(session: Session, *, site: ManufacturingSite, on: dt.date) -> str:
    """ISBT 128 Chain of Identity identifier, data structure 040 (ICCBBA ST-028), issued by the
    manufacturing site under its FIN from a never-reused yearly sequence."""
    fin = site.facility_identification_number
    sequence = next_sequence(session, fin=fin, year=on.year, kind="coi")
    return make_coi(fin=fin, year=on.year, sequence=sequence).value


def refer_episode(
    session: Session, *, actor: Actor, data: EpisodeCreate, today: dt.date | None = None
) -> Episode:
    require_role(actor, Role.COORDINATOR)
    patient = get_patient(session, actor=actor, patient_id=data.patient_id)
    if patient.center_id not in actor.center_ids(Role.COORDINATOR):
        raise RoleRequired(_("only a coordinator of the patient's center can refer them"))
    product = session.execute(
        select(Product).where(Product.code == data.product)
    ).scalar_one_or_none()
    if product is None or not product.active:
        raise InvalidInput(
            _("unknown or inactive product {code!r}", code=data.product), field="product"
        )
    open_episode = session.execute(
        select(Episode.id).where(
            Episode.patient_id == patient.id,
            Episode.state.not_in([EpisodeState.CLOSED, EpisodeState.WITHDRAWN]),
        )
    ).first()
    if open_episode is not None:
        raise Conflict(
            _("the patient already has an open episode; close or withdraw it first"),
            code="EPISODE-ALREADY-OPEN",
        )
    site = session.get(ManufacturingSite, product.manufacturing_site_id)
    assert site is not None  # foreign key
    referred_on = today or utcnow().date()
    episode = Episode(
        patient_id=patient.id,
        product_id=product.id,
        center_id=patient.center_id,
        manufacturing_site_id=site.id,
        chain_of_identity=assign_chain_of_identity(session, site=site, on=referred_on),
        state=EpisodeState.REFERRED,
        priority=data.priority,
        referred_on=referred_on,
        earliest_apheresis_date=data.earliest_apheresis_date,
        latest_infusion_date=data.latest_infusion_date,
        notes=data.notes,
    )
    session.add(episode)
    session.flush()
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="episode",
        record_id=episode.id,
        action="refer",
        after=_audit_snapshot(episode),
    )
    return episode


def get_episode(session: Session, *, actor: Actor, episode_id: uuid.UUID) -> Episode:
    if not can_read_episodes(actor):
        raise RoleRequired(_("reading episodes needs a role at a center or a manufacturing site"))
    episode = (
        session.execute(
            _with_relations(select(Episode)).where(Episode.id == episode_id, episode_scope(actor))
        )
        .unique()
        .scalar_one_or_none()
    )
    if episode is None:
        raise EpisodeNotFound(_("no episode {episode_id}", episode_id=episode_id))
    return episode


@dataclass(frozen=True)
class EpisodeFilter:
    state: EpisodeState | None = None
    product_code: str | None = None
    center_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    chain_of_identity: str | None = None


def list_episodes(
    session: Session, *, actor: Actor, filters: EpisodeFilter, limit: int, offset: int
) -> tuple[list[Episode], int]:
    if not can_read_episodes(actor):
        raise RoleRequired(_("reading episodes needs a role at a center or a manufacturing site"))
    conditions = [episode_scope(actor)]
    if filters.state is not None:
        conditions.append(Episode.state == filters.state)
    if filters.center_id is not None:
        conditions.append(Episode.center_id == filters.center_id)
    if filters.site_id is not None:
        conditions.append(Episode.manufacturing_site_id == filters.site_id)
    if filters.patient_id is not None:
        conditions.append(Episode.patient_id == filters.patient_id)
    if filters.chain_of_identity is not None:
        conditions.append(Episode.chain_of_identity == filters.chain_of_identity)
    if filters.product_code is not None:
        conditions.append(
            Episode.product_id.in_(select(Product.id).where(Product.code == filters.product_code))
        )
    total = session.execute(select(func.count(Episode.id)).where(*conditions)).scalar_one()
    rows = (
        session.execute(
            _with_relations(select(Episode))
            .where(*conditions)
            .order_by(Episode.referred_on.desc(), Episode.id)
            .limit(limit)
            .offset(offset)
        )
        .unique()
        .scalars()
    )
    return list(rows), total


def episode_facts(episode: Episode, *, today: dt.date) -> workflow.EpisodeFacts:
    patient = episode.patient
    return workflow.EpisodeFacts(
        state=episode.state,
        today=today,
        patient_age_years=patient.age_on(today),
        diagnosis=patient.diagnosis,
        prior_lines_of_therapy=patient.prior_lines_of_therapy,
        indications=tuple(
            workflow.IndicationRule(
                i.diagnosis, i.min_age_years, i.max_age_years, i.min_prior_lines
            )
            for i in episode.product.indications
        ),
        earliest_apheresis_date=episode.earliest_apheresis_date,
        has_chain_of_identity=episode.chain_of_identity is not None,
    )


def apply_transition(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    request: TransitionRequest,
    now: dt.datetime | None = None,
    on_behalf_of: str | None = None,
) -> Episode:
    """Move the episode. Domain services that own a step (see `Transition.owner`) pass their
    name as `on_behalf_of` after doing their own checks; the generic endpoint passes nothing."""
    transition = workflow.transition_named(request.transition)
    if transition is None:
        known = ", ".join(sorted(workflow.TRANSITIONS))
        raise UnknownTransition(
            _(
                "unknown transition {transition!r}; known: {known}",
                transition=request.transition,
                known=known,
            ),
            field="transition",
        )
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    if not roles_on_episode(actor, episode) & transition.roles:
        names = ", ".join(sorted(r.value for r in transition.roles))
        raise RoleRequired(
            _(
                "'{transition}' needs one of the roles {names} for this episode's center or site",
                transition=transition.name,
                names=names,
            )
        )
    if request.expected_version is not None and request.expected_version != episode.version:
        raise Conflict(
            _(
                "the episode changed since you read it (version {version}, "
                "you had {expected}); reload and try again",
                version=episode.version,
                expected=request.expected_version,
            ),
            code="EPISODE-STALE",
        )
    moment = now or utcnow()
    inputs = workflow.TransitionInput(
        reason=request.reason,
        withdrawal_reason=request.withdrawal_reason,
        planned_apheresis_date=request.planned_apheresis_date,
        planned_infusion_date=request.planned_infusion_date,
    )
    decision = transition.check(
        episode_facts(episode, today=moment.date()), inputs, on_behalf_of=on_behalf_of
    )
    if isinstance(decision, workflow.Denied):
        raise TransitionRefused(
            _("{code}: {message}", code=decision.code, message=decision.message),
            code=decision.code,
        )

    before = _audit_snapshot(episode)
    from_state = episode.state
    episode.state = transition.target
    episode.state_changed_at = moment
    if transition.target is EpisodeState.WITHDRAWN:
        episode.withdrawal_reason = request.withdrawal_reason
        episode.withdrawn_from_state = from_state
    if request.planned_apheresis_date is not None:
        episode.planned_apheresis_date = request.planned_apheresis_date
    if request.planned_infusion_date is not None:
        episode.planned_infusion_date = request.planned_infusion_date
    if (
        transition.target is EpisodeState.APHERESIS_COLLECTED
        and episode.apheresis_collected_at is None
    ):
        episode.apheresis_collected_at = moment
    if transition.target is EpisodeState.INFUSED:
        episode.infused_at = moment
    session.add(
        EpisodeStateChange(
            episode_id=episode.id,
            transition=transition.name,
            from_state=from_state,
            to_state=transition.target,
            occurred_at=moment,
            actor_id=actor.id,
            reason=request.reason,
        )
    )
    session.flush()
    if transition.target is EpisodeState.WITHDRAWN:
        # A withdrawn patient's chair and device days go back to the network at once.
        from cartflow.scheduling.service import cancel_bookings

        cancel_bookings(
            session,
            actor=actor,
            episode_id=episode.id,
            reason=f"episode withdrawn: {request.reason}",
        )
    changed_before, changed_after = diff(before, _audit_snapshot(episode))
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="episode",
        record_id=episode.id,
        action=transition.name,
        before=changed_before,
        after=changed_after,
        reason=request.reason,
        occurred_at=moment,
    )
    return episode


def state_changes(
    session: Session, *, actor: Actor, episode_id: uuid.UUID
) -> list[EpisodeStateChange]:
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    return list(
        session.execute(
            select(EpisodeStateChange)
            .where(EpisodeStateChange.episode_id == episode.id)
            .order_by(EpisodeStateChange.occurred_at, EpisodeStateChange.id)
        ).scalars()
    )


def episode_out(episode: Episode) -> EpisodeOut:
    return EpisodeOut(
        id=episode.id,
        patient_id=episode.patient_id,
        patient_pseudonym=episode.patient.pseudonym,
        product_code=episode.product.code,
        center_code=episode.center.code,
        site_code=episode.manufacturing_site.code,
        chain_of_identity=episode.chain_of_identity,
        chain_of_identity_check_character=(
            ChainOfIdentityId.parse(episode.chain_of_identity).check_character
            if episode.chain_of_identity
            else None
        ),
        state=episode.state,
        state_changed_at=episode.state_changed_at,
        withdrawal_reason=episode.withdrawal_reason,
        priority=episode.priority,
        referred_on=episode.referred_on,
        earliest_apheresis_date=episode.earliest_apheresis_date,
        latest_infusion_date=episode.latest_infusion_date,
        planned_apheresis_date=episode.planned_apheresis_date,
        planned_infusion_date=episode.planned_infusion_date,
        version=episode.version,
        next_transitions=[t.name for t in workflow.available_transitions(episode.state)],
    )
