"""Clinical services: shared access rules, product protocols and consents.

Invariants for every clinical service (`eligibility_service`, `lymphodepletion_service`,
`infusion_service`, `toxicity_service`, `outcome_service`, `worklists`):
- an episode is read through `cartflow.episodes.service.get_episode`, so another center's episode
  is not found (404); holding the wrong role for this episode's center is 403;
- every record written is audited in the same transaction; nothing is deleted or edited in place
  (corrections supersede, with a reason);
- episode moves go through `apply_transition(..., on_behalf_of="clinical")`;
- on PostgreSQL the episode row is locked (`SELECT ... FOR UPDATE`) before rows of that episode are
  counted (tocilizumab doses, current plan, open checks), so two writers cannot both pass a limit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import record_event
from cartflow.auth.actor import Actor
from cartflow.auth.dependencies import require_role
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import roles_on_episode
from cartflow.clinical.eligibility import ZUMA1_CRITERIA, EligibilityCriteria, LabLimit, LabTest
from cartflow.clinical.errors import ClinicalRecordNotFound
from cartflow.clinical.lymphodepletion import REGIMENS
from cartflow.clinical.schemas import ConsentIn, ProtocolIn, ProtocolOut
from cartflow.clinical.workflow import OWNER
from cartflow.db.base import UUIDPrimaryKey, utcnow
from cartflow.episodes.schemas import TransitionRequest
from cartflow.episodes.service import apply_transition, get_episode
from cartflow.errors import InvalidInput
from cartflow.i18n import Message, _
from cartflow.i18n.labels import roles_listing
from cartflow.models import Episode, Product, Role
from cartflow.models.clinical import ClinicalProtocol, Consent, ConsentKind
from cartflow.models.clinical_infusion import Infusion

CLINICAL_READERS = frozenset(
    {Role.CLINICIAN, Role.COORDINATOR, Role.APHERESIS_NURSE, Role.REGISTRY_ANALYST}
)
CLINICIANS = frozenset({Role.CLINICIAN})
CONSENT_RECORDERS = frozenset({Role.CLINICIAN, Role.COORDINATOR})
# Who may scan at the bedside: nurses and physicians of the treating center.
BEDSIDE_CHECKERS = frozenset({Role.CLINICIAN, Role.APHERESIS_NURSE})


def clinical_episode(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    roles: frozenset[Role],
    action: str | Message,
    lock: bool = False,
) -> Episode:
    """The episode in the actor's scope (else 404), if the actor holds one of `roles` there."""
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    if not roles_on_episode(actor, episode) & roles:
        names = roles_listing(roles)
        raise RoleRequired(
            _(
                "{action} needs one of the roles {roles} at the episode's center",
                action=action,
                roles=names,
            )
        )
    if lock:
        lock_episode(session, episode.id)
    return episode


def lock_episode(session: Session, episode_id: uuid.UUID) -> None:
    """Row lock on PostgreSQL; SQLite transactions are already serialised (BEGIN IMMEDIATE)."""
    session.execute(select(Episode.id).where(Episode.id == episode_id).with_for_update())


def audit(
    session: Session,
    *,
    actor: Actor,
    record_type: str,
    record: UUIDPrimaryKey,
    action: str,
    before: dict[str, object] | None = None,
    reason: str = "",
) -> None:
    session.flush()
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type=record_type,
        record_id=record.id,
        action=action,
        before=before,
        after=snapshot(record),
        reason=reason,
    )


def move_episode(
    session: Session,
    *,
    actor: Actor,
    episode: Episode,
    transition: str,
    reason: str,
    now: dt.datetime,
    planned_infusion_date: dt.date | None = None,
) -> Episode:
    return apply_transition(
        session,
        actor=actor,
        episode_id=episode.id,
        request=TransitionRequest(
            transition=transition, reason=reason, planned_infusion_date=planned_infusion_date
        ),
        now=now,
        on_behalf_of=OWNER,
    )


def local_date(moment: dt.datetime, timezone: str) -> dt.date:
    """The calendar day at the treating center (clinical days are the center's days)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def infusion_of(session: Session, episode: Episode) -> Infusion | None:
    return session.execute(
        select(Infusion).where(Infusion.episode_id == episode.id)
    ).scalar_one_or_none()


def infusion_date(session: Session, episode: Episode) -> dt.date | None:
    """Day 0 at the treating center: the infusion record's start, else the episode's move."""
    record = infusion_of(session, episode)
    moment = record.infusion_started_at if record is not None else episode.infused_at
    return local_date(moment, episode.center.timezone) if moment is not None else None


# --- Protocols ---------------------------------------------------------------------------------


def _product(session: Session, code: str) -> Product:
    product = session.execute(select(Product).where(Product.code == code)).scalar_one_or_none()
    if product is None:
        raise ClinicalRecordNotFound(_("no product {code!r}", code=code), field="product")
    return product


def current_protocol(session: Session, product_id: uuid.UUID) -> ClinicalProtocol | None:
    return session.execute(
        select(ClinicalProtocol)
        .where(ClinicalProtocol.product_id == product_id, ClinicalProtocol.superseded_at.is_(None))
        .order_by(ClinicalProtocol.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def criteria_of(protocol: ClinicalProtocol | None) -> EligibilityCriteria:
    if protocol is None:
        return ZUMA1_CRITERIA
    return EligibilityCriteria(
        max_ecog=protocol.max_ecog,
        min_karnofsky_lansky=protocol.min_karnofsky_lansky,
        labs={LabTest(k): LabLimit.model_validate(v) for k, v in protocol.lab_limits.items()},
        source=protocol.source,
    )


def protocol_out(product: Product, protocol: ClinicalProtocol | None) -> ProtocolOut:
    return ProtocolOut(
        product_code=product.code,
        version=protocol.version if protocol else 0,
        criteria=criteria_of(protocol),
        ld_regimen_code=protocol.ld_regimen_code if protocol else None,
        effective_from=protocol.effective_from if protocol else None,
    )


def get_protocol(session: Session, *, product_code: str) -> ProtocolOut:
    product = _product(session, product_code)
    return protocol_out(product, current_protocol(session, product.id))


def set_protocol(
    session: Session, *, actor: Actor, product_code: str, data: ProtocolIn
) -> ProtocolOut:
    """A new protocol version supersedes the current one (admins only)."""
    require_role(actor, Role.ADMIN)
    product = _product(session, product_code)
    if data.ld_regimen_code is not None and data.ld_regimen_code not in REGIMENS:
        known = ", ".join(sorted(REGIMENS))
        raise InvalidInput(
            _("unknown regimen {code!r}; known: {known}", code=data.ld_regimen_code, known=known),
            field="ld_regimen_code",
        )
    session.execute(
        select(Product.id).where(Product.id == product.id).with_for_update()
    )  # one new version at a time per product
    old = current_protocol(session, product.id)
    now = utcnow()
    if old is not None:
        old.superseded_at = now
    protocol = ClinicalProtocol(
        product_id=product.id,
        version=(old.version + 1) if old else 1,
        max_ecog=data.max_ecog,
        min_karnofsky_lansky=data.min_karnofsky_lansky,
        lab_limits={k.value: v.model_dump(exclude_none=True) for k, v in data.labs.items()},
        ld_regimen_code=data.ld_regimen_code,
        source=data.source,
        effective_from=now,
        created_by_id=actor.id,
    )
    session.add(protocol)
    session.flush()
    audit(
        session,
        actor=actor,
        record_type="clinical_protocol",
        record=protocol,
        action="create",
        reason=f"supersedes version {old.version}" if old else "",
    )
    return protocol_out(product, protocol)


# --- Consents ----------------------------------------------------------------------------------


def record_consent(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    data: ConsentIn,
    today: dt.date | None = None,
) -> Consent:
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=episode_id,
        roles=CONSENT_RECORDERS,
        action=_("recording a consent"),
    )
    day = today or local_date(utcnow(), episode.center.timezone)
    if data.signed_on > day:
        raise InvalidInput(_("signed_on is in the future"), field="signed_on")
    if data.signed_on < episode.referred_on - dt.timedelta(days=365):
        raise InvalidInput(
            _("signed_on is more than a year before the referral"), field="signed_on"
        )
    consent = Consent(
        episode_id=episode.id,
        kind=data.kind,
        signed_on=data.signed_on,
        form_version=data.form_version,
        signed_by=data.signed_by,
        recorded_by_id=actor.id,
    )
    session.add(consent)
    audit(
        session,
        actor=actor,
        record_type="clinical_consent",
        record=consent,
        action="create",
    )
    return consent


def consents(session: Session, *, actor: Actor, episode_id: uuid.UUID) -> list[Consent]:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    return list(
        session.execute(
            select(Consent).where(Consent.episode_id == episode.id).order_by(Consent.signed_on)
        ).scalars()
    )


def has_consent(items: Iterable[Consent], kind: ConsentKind = ConsentKind.TREATMENT) -> bool:
    return any(c.kind is kind and c.withdrawn_on is None for c in items)
