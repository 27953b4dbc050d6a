"""Registry cohorts: which episodes an analysis covers, who may ask, and the intention-to-treat
counts.

A cohort is every episode *referred* in the period that matches the filters, whatever happened to
it afterwards (intention to treat, as CIBMTR and the pivotal CAR-T trials report enrolment: e.g.
ELIANA, Maude et al., N Engl J Med 2018;378:439-448, Figure 1: enrolled -> infused, with the
reasons for not being infused). Age groups follow the paediatric/adult split at 18 years, taken at
referral.

Access: network-wide registry analysts see every center; a registry analyst, coordinator or
clinician tied to a center sees that center only. A center filter outside the caller's scope is
reported as not found (an id from another center reveals nothing); any other role is refused.
Rows carry the patient's pseudonym, never a name or a medical record number.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.clinical.service import local_date
from cartflow.errors import InvalidInput, NotFound
from cartflow.i18n import _
from cartflow.models import (
    Diagnosis,
    Episode,
    EpisodeState,
    Patient,
    Product,
    Role,
    TreatmentCenter,
    WithdrawalReason,
)
from cartflow.models.clinical_infusion import Infusion

AgeGroup = Literal["pediatric", "adult"]
ADULT_AGE_YEARS = 18
CENTER_READERS = (Role.REGISTRY_ANALYST, Role.COORDINATOR, Role.CLINICIAN)


class CenterNotFound(NotFound):
    code = "REGISTRY-CENTER-NOT-FOUND"


class GroupBy(StrEnum):
    """What a registry analysis compares: one group, or one per product, center or disease."""

    NONE = "none"
    PRODUCT = "product"
    CENTER = "center"
    DIAGNOSIS = "diagnosis"


@dataclass(frozen=True)
class CohortFilter:
    center: str | None = None
    product: str | None = None
    indication: Diagnosis | None = None
    age_group: AgeGroup | None = None
    referred_from: dt.date | None = None
    referred_to: dt.date | None = None

    def __post_init__(self) -> None:
        if (
            self.referred_from is not None
            and self.referred_to is not None
            and self.referred_to < self.referred_from
        ):
            raise InvalidInput(
                _(
                    "referred_to {end} is before referred_from {start}",
                    end=self.referred_to.isoformat(),
                    start=self.referred_from.isoformat(),
                ),
                field="referred_to",
            )


@dataclass(frozen=True)
class CohortMember:
    """One episode of the cohort, pseudonymous; instants are UTC, days are the center's days."""

    episode_id: uuid.UUID
    patient_id: uuid.UUID
    pseudonym: str
    sex: str
    birth_year: int
    center_code: str
    product_id: uuid.UUID
    product_code: str
    product_name: str
    isbt_product_code: str
    gene_modified: bool
    chain_of_identity: str | None
    diagnosis: Diagnosis
    age_at_referral: int
    state: EpisodeState
    referred_on: dt.date
    apheresis_collected_on: dt.date | None
    infused_at: dt.datetime | None
    infused_on: dt.date | None
    withdrawal_reason: WithdrawalReason | None
    withdrawn_from_state: EpisodeState | None
    withdrawn_on: dt.date | None = None

    def group(self, by: GroupBy) -> str:
        """The label of this member's group (``"all"`` when nothing is compared)."""
        if by is GroupBy.PRODUCT:
            return self.product_code
        if by is GroupBy.CENTER:
            return self.center_code
        if by is GroupBy.DIAGNOSIS:
            return self.diagnosis.value
        return "all"


@dataclass(frozen=True)
class Dropout:
    reason: WithdrawalReason
    from_state: EpisodeState
    count: int


@dataclass(frozen=True)
class CohortCounts:
    referred: int
    apheresed: int
    infused: int
    withdrawn: int
    dropouts: tuple[Dropout, ...]


def visible_centers(actor: Actor) -> frozenset[uuid.UUID] | None:
    """Centers whose patient-level rows the actor may read; None means every center."""
    if actor.is_network(Role.REGISTRY_ANALYST):
        return None
    centers = actor.center_ids(*CENTER_READERS)
    if not centers:
        raise RoleRequired(
            _(
                "registry outputs need the registry_analyst role, or coordinator or clinician "
                "at a center"
            )
        )
    return centers


def _center_id(session: Session, code: str, visible: frozenset[uuid.UUID] | None) -> uuid.UUID:
    center_id = session.execute(
        select(TreatmentCenter.id).where(TreatmentCenter.code == code)
    ).scalar_one_or_none()
    if center_id is None or (visible is not None and center_id not in visible):
        raise CenterNotFound(_("no center {code}", code=repr(code)), field="center")
    return center_id


def _query(
    session: Session, actor: Actor, filters: CohortFilter
) -> Select[Episode, Patient, Product, TreatmentCenter, Infusion]:
    visible = visible_centers(actor)
    stmt = (
        select(Episode, Patient, Product, TreatmentCenter, Infusion)
        .join(Patient, Patient.id == Episode.patient_id)
        .join(Product, Product.id == Episode.product_id)
        .join(TreatmentCenter, TreatmentCenter.id == Episode.center_id)
        .outerjoin(Infusion, Infusion.episode_id == Episode.id)
        .order_by(Episode.referred_on, Patient.pseudonym)
    )
    if visible is not None:
        stmt = stmt.where(Episode.center_id.in_(visible))
    if filters.center is not None:
        stmt = stmt.where(Episode.center_id == _center_id(session, filters.center, visible))
    if filters.product is not None:
        stmt = stmt.where(Product.code == filters.product)
    if filters.indication is not None:
        stmt = stmt.where(Patient.diagnosis == filters.indication)
    if filters.referred_from is not None:
        stmt = stmt.where(Episode.referred_on >= filters.referred_from)
    if filters.referred_to is not None:
        stmt = stmt.where(Episode.referred_on <= filters.referred_to)
    return stmt


def age_group_of(age_years: int) -> AgeGroup:
    return "adult" if age_years >= ADULT_AGE_YEARS else "pediatric"


def select_cohort(session: Session, *, actor: Actor, filters: CohortFilter) -> list[CohortMember]:
    """The cohort's episodes in the actor's scope, ordered by referral date."""
    members: list[CohortMember] = []
    for episode, patient, product, center, infusion in session.execute(
        _query(session, actor, filters)
    ):
        age = patient.age_on(episode.referred_on)
        if filters.age_group is not None and age_group_of(age) != filters.age_group:
            continue
        # Day 0 is the infusion record's start; the episode's move stands in where there is none.
        infused_at = infusion.infusion_started_at if infusion is not None else episode.infused_at
        collected = episode.apheresis_collected_at
        members.append(
            CohortMember(
                episode_id=episode.id,
                patient_id=patient.id,
                pseudonym=patient.pseudonym,
                sex=patient.sex.value,
                birth_year=patient.date_of_birth.year,
                center_code=center.code,
                product_id=product.id,
                product_code=product.code,
                product_name=product.name,
                isbt_product_code=product.isbt_product_code,
                gene_modified=product.gene_modified,
                chain_of_identity=episode.chain_of_identity,
                diagnosis=patient.diagnosis,
                age_at_referral=age,
                state=episode.state,
                referred_on=episode.referred_on,
                apheresis_collected_on=(
                    local_date(collected, center.timezone) if collected is not None else None
                ),
                infused_at=infused_at,
                infused_on=(
                    local_date(infused_at, center.timezone) if infused_at is not None else None
                ),
                withdrawal_reason=episode.withdrawal_reason,
                withdrawn_from_state=episode.withdrawn_from_state,
                withdrawn_on=(
                    local_date(episode.state_changed_at, center.timezone)
                    if episode.state is EpisodeState.WITHDRAWN
                    else None
                ),
            )
        )
    return members


def itt_counts(members: list[CohortMember]) -> CohortCounts:
    """Referred, apheresed and infused by intention to treat, and the dropouts by reason and the
    state each was withdrawn from."""
    withdrawn = [
        (m.withdrawal_reason, m.withdrawn_from_state)
        for m in members
        if m.state is EpisodeState.WITHDRAWN
        and m.withdrawal_reason is not None
        and m.withdrawn_from_state is not None
    ]
    tally = Counter(withdrawn)
    return CohortCounts(
        referred=len(members),
        apheresed=sum(1 for m in members if m.apheresis_collected_on is not None),
        infused=sum(1 for m in members if m.infused_at is not None),
        withdrawn=len(withdrawn),
        dropouts=tuple(
            Dropout(reason=reason, from_state=state, count=count)
            for (reason, state), count in sorted(tally.items())
        ),
    )


# --- Time to infusion ----------------------------------------------------------------------------


class WaitEndpoint(StrEnum):
    """Where the clock starts for the time to infusion."""

    REFERRAL_TO_INFUSION = "referral_to_infusion"
    VEIN_TO_VEIN = "vein_to_vein"


WAITING, INFUSED, WITHDRAWN = 0, 1, 2


@dataclass(frozen=True)
class WaitSubject:
    """One episode's days from the clock's start and what ended them: 0 still on the path
    (censored at today), 1 infused, 2 withdrawn before infusion (a competing event)."""

    member: CohortMember
    days: int
    event: int
    group: str


def time_to_infusion(
    members: list[CohortMember], *, endpoint: WaitEndpoint, group_by: GroupBy, today: dt.date
) -> list[WaitSubject]:
    """Each member's time to infusion, measured from episode dates only (the center's days), so
    no clinical outcome is assumed: infusion is the event of interest and a withdrawal before it
    competes (cumulative incidence) or censors (Kaplan-Meier). For vein to vein an episode is at
    risk from its apheresis collection only."""
    out = []
    for member in members:
        if endpoint is WaitEndpoint.VEIN_TO_VEIN:
            if member.apheresis_collected_on is None:
                continue
            origin = member.apheresis_collected_on
        else:
            origin = member.referred_on
        if member.infused_on is not None:
            end, event = member.infused_on, INFUSED
        elif member.withdrawn_on is not None:
            end, event = member.withdrawn_on, WITHDRAWN
        else:
            end, event = today, WAITING
        out.append(WaitSubject(member, max((end - origin).days, 0), event, member.group(group_by)))
    return out
