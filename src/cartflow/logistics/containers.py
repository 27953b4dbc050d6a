"""Containers: registering an episode's labelled bags, cassettes and shippers, and their labels.

Invariants: every container has its own DIN, allocated from the never-reused per-FIN, per-year
"din" sequence of the episode's manufacturing site (the organisation that issued the episode's
chain of identity identifier, so both identifiers carry the same FIN); the container carries the
episode's chain of identity identifier; a product bag's expiry is set at labelling (now + the
product's shelf life unless given); a container that was never handed off may be discarded (a
spoilt label), one in custody only through a quarantine decision.

[A] ISBT 128 assigns DINs to donations and products; a shipper gets one from the same sequence
so that every container is named by one scan. Collection bags are labelled under the site's FIN
because centers have no FIN in the network model.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import AuditActor, diff, record_event
from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import PATIENT_READERS, episode_scope, roles_on_episode
from cartflow.db.base import utcnow
from cartflow.episodes.service import get_episode
from cartflow.errors import Conflict, InvalidInput
from cartflow.i18n import Message, _, current_locale
from cartflow.i18n.labels import roles_listing, state_in_text, states_listing
from cartflow.identity.isbt128 import ChainOfIdentityId, Din, ProductCode, make_din
from cartflow.identity.scan import ExpectedContainer
from cartflow.identity.sequences import next_sequence
from cartflow.logistics.errors import ContainerNotFound, ContainerState
from cartflow.logistics.workflow import KIND_LABELS, REGISTRARS, STATUS_LABELS
from cartflow.models import Episode, EpisodeState, Role
from cartflow.models.custody import ContainerKind, ContainerStatus, CustodyContainer

if TYPE_CHECKING:
    from cartflow.identity.labels import LabelContent

S = EpisodeState
K = ContainerKind
MAX_PER_REQUEST: Final = 10

REGISTER_STATES: Final[Mapping[ContainerKind, frozenset[EpisodeState]]] = MappingProxyType(
    {
        K.COLLECTION_BAG: frozenset({S.SLOT_BOOKED, S.APHERESIS_COLLECTED}),
        K.PRODUCT_BAG: frozenset({S.IN_MANUFACTURING, S.QC}),
        K.CASSETTE: frozenset({S.IN_MANUFACTURING, S.QC}),
        K.SHIPPER: frozenset({S.QC, S.RELEASED}),
    }
)
"""When each kind is labelled: collection bags before apheresis, product at fill, shipper before
the product leaves."""


def container_snapshot(container: CustodyContainer) -> dict[str, object]:
    return snapshot(container, exclude=frozenset({"created_at", "updated_at"}))


def _product_expiry(session: Session, episode: Episode) -> dt.datetime | None:
    """A shipper expires with the earliest-expiring product bag it carries."""
    return session.execute(
        select(CustodyContainer.expires_at)
        .where(
            CustodyContainer.episode_id == episode.id,
            CustodyContainer.kind == K.PRODUCT_BAG,
            CustodyContainer.status == ContainerStatus.IN_USE,
            CustodyContainer.expires_at.is_not(None),
        )
        .order_by(CustodyContainer.expires_at)
        .limit(1)
    ).scalar_one_or_none()


def register_containers(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    kind: ContainerKind,
    count: int = 1,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> list[CustodyContainer]:
    """Label `count` new containers of `kind` for the episode, each with a fresh DIN."""
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    if not roles_on_episode(actor, episode) & REGISTRARS[kind]:
        names = roles_listing(REGISTRARS[kind])
        raise RoleRequired(
            _(
                "labelling a {kind} needs one of the roles {names} here",
                kind=KIND_LABELS[kind],
                names=names,
            )
        )
    if not 1 <= count <= MAX_PER_REQUEST:
        raise InvalidInput(
            _("count must be 1 to {maximum}", maximum=MAX_PER_REQUEST), field="count"
        )
    if episode.state not in REGISTER_STATES[kind]:
        allowed = states_listing(REGISTER_STATES[kind])
        raise Conflict(
            _(
                "a {kind} is labelled when the episode is {allowed}; it is {state}",
                kind=KIND_LABELS[kind],
                allowed=allowed,
                state=state_in_text(episode.state),
            ),
            code="CONTAINER-NOT-NOW",
        )
    if episode.chain_of_identity is None:
        raise Conflict(_("the episode has no chain of identity identifier"), code="APH-001")
    moment = now or utcnow()
    if expires_at is not None and (kind is K.COLLECTION_BAG or expires_at <= moment):
        raise InvalidInput(
            _("expires_at must be in the future, and is not set on collection bags"),
            field="expires_at",
        )
    product, site = episode.product, episode.manufacturing_site
    if kind is K.COLLECTION_BAG:
        code, expiry, zone = None, None, episode.center.timezone
    else:
        code = ProductCode.parse(product.isbt_product_code, cellular_therapy=True).value
        if kind is K.SHIPPER:
            expiry = expires_at or _product_expiry(session, episode)
        else:
            expiry = expires_at or moment + dt.timedelta(days=product.shelf_life_days)
        zone = site.timezone
    fin = site.facility_identification_number
    created = []
    for _number in range(count):
        sequence = next_sequence(session, fin=fin, year=moment.year, kind="din")
        container = CustodyContainer(
            episode_id=episode.id,
            kind=kind,
            din=make_din(fin=fin, year=moment.year, sequence=sequence).value,
            product_code=code,
            chain_of_identity=episode.chain_of_identity,
            status=ContainerStatus.IN_USE,
            expires_at=expiry,
            label_timezone=zone,
            registered_by_id=actor.id,
        )
        session.add(container)
        session.flush()
        record_event(
            session,
            actor=actor.as_audit_actor(),
            record_type="container",
            record_id=container.id,
            action="register",
            after=container_snapshot(container),
            occurred_at=moment,
        )
        created.append(container)
    return created


def get_container(session: Session, *, actor: Actor, container_id: uuid.UUID) -> CustodyContainer:
    """A container of an episode the actor may read; any other is not found."""
    container = session.execute(
        select(CustodyContainer)
        .join(Episode, Episode.id == CustodyContainer.episode_id)
        .where(CustodyContainer.id == container_id, episode_scope(actor))
    ).scalar_one_or_none()
    if container is None:
        raise ContainerNotFound(_("no container {container_id}", container_id=container_id))
    return container


def list_containers(
    session: Session, *, actor: Actor, episode_id: uuid.UUID
) -> list[CustodyContainer]:
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    return list(
        session.execute(
            select(CustodyContainer)
            .where(CustodyContainer.episode_id == episode.id)
            .order_by(CustodyContainer.created_at, CustodyContainer.din)
        ).scalars()
    )


def discard_container(
    session: Session, *, actor: Actor, container_id: uuid.UUID, reason: str
) -> CustodyContainer:
    """Withdraw a label that never held material (spoilt, or one bag too many)."""
    container = get_container(session, actor=actor, container_id=container_id)
    episode = get_episode(session, actor=actor, episode_id=container.episode_id)
    if not roles_on_episode(actor, episode) & REGISTRARS[container.kind]:
        raise RoleRequired(
            _(
                "discarding a {kind} needs the role that labels it",
                kind=KIND_LABELS[container.kind],
            )
        )
    if not reason.strip():
        raise InvalidInput(_("discarding needs a reason"), field="reason")
    if container.status is not ContainerStatus.IN_USE or container.last_step is not None:
        raise ContainerState(
            _(
                "DIN {din} has been handed off or is {status}; only an unused label can be "
                "discarded here",
                din=Din.parse(container.din).eye_readable,
                status=STATUS_LABELS[container.status],
            )
        )
    set_container_status(
        session,
        actor=actor.as_audit_actor(),
        container=container,
        status=ContainerStatus.DISCARDED,
        reason=reason,
        action="discard",
    )
    return container


def expected_container(container: CustodyContainer) -> ExpectedContainer:
    """What a scan of this container must say (the record's identifiers and expiry)."""
    return ExpectedContainer(
        coi=ChainOfIdentityId.parse(container.chain_of_identity),
        din=Din.parse(container.din),
        product_code=ProductCode(container.product_code) if container.product_code else None,
        expires_at=container.expires_at,
        label_timezone=ZoneInfo(container.label_timezone),
    )


_STORAGE_TEXT: Final[Mapping[str, Message]] = MappingProxyType(
    {
        "fresh": _("2-8 °C, do not freeze"),
        "frozen": _("≤ −150 °C (LN2 vapour phase)"),
    }
)


def label_content(
    session: Session, *, actor: Actor, container: CustodyContainer, locale: str | None = None
) -> LabelContent:
    """The label of a container. Staff who may read the patient's record print name and date of
    birth; site staff, who see episodes pseudonymously, print the patient's pseudonym.

    Captions and the storage text are in `locale` (default: the reader's language); names,
    identifiers and bar codes print as recorded."""
    from cartflow.identity.labels import LabelContent, LabelKind, label_captions

    language = locale or current_locale()
    episode = get_episode(session, actor=actor, episode_id=container.episode_id)
    patient, product, site = episode.patient, episode.product, episode.manufacturing_site
    identified = patient.center_id in actor.center_ids(*PATIENT_READERS)
    if container.kind is K.COLLECTION_BAG:
        name = _("Apheresis for {product}", product=product.name).render(language)
        fresh = product.fresh_apheresis_max_hours is not None
        storage = _STORAGE_TEXT["fresh" if fresh else "frozen"].render(language)
    else:
        name = f"{product.name} ({product.inn})"
        storage = f"≤ {product.storage_temperature_max_c} °C".replace("-", "−")
    return LabelContent(
        kind=LabelKind(container.kind.value.replace("_", "-")),
        coi=ChainOfIdentityId.parse(container.chain_of_identity),
        din=Din.parse(container.din),
        din_flags=container.din_flags,
        product_code=ProductCode(container.product_code) if container.product_code else None,
        product_name=name,
        patient_name=(
            f"{patient.family_name} {patient.given_name}".strip() or patient.pseudonym
            if identified
            else patient.pseudonym
        ),
        date_of_birth=patient.date_of_birth if identified else None,
        expires_at=container.expires_at,
        label_timezone=ZoneInfo(container.label_timezone),
        storage_temperature=storage,
        facility=f"{site.facility_identification_number} {site.name}",
        captions=label_captions(language),
    )


def set_container_status(
    session: Session,
    *,
    actor: AuditActor,
    container: CustodyContainer,
    status: ContainerStatus,
    reason: str,
    action: str,
) -> None:
    before = container_snapshot(container)
    container.status = status
    container.status_reason = reason
    session.flush()
    old, new = diff(before, container_snapshot(container))
    record_event(
        session,
        actor=actor,
        record_type="container",
        record_id=container.id,
        action=action,
        before=old,
        after=new,
        reason=reason,
    )


def require_any_role(
    actor: Actor, episode: Episode, roles: frozenset[Role], what: str | Message
) -> None:
    if not roles_on_episode(actor, episode) & roles:
        names = roles_listing(roles)
        raise RoleRequired(
            _("{what} needs one of the roles {names} for this episode", what=what, names=names)
        )
