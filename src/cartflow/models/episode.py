"""Treatment episodes: one product for one patient, moving vein to vein.

An episode's state changes only through `cartflow.episodes.service.apply_transition`, which
checks the transition's guard (`cartflow.episodes.workflow`), records an `EpisodeStateChange`
and an audit event in the same transaction. `version` is an optimistic lock: two hand-offs
racing on one episode cannot both win.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cartflow.db.base import Base, Timestamps, UUIDPrimaryKey, str_enum, utcnow
from cartflow.models.network import ManufacturingSite, TreatmentCenter
from cartflow.models.patient import Patient
from cartflow.models.product import Product


class EpisodeState(enum.StrEnum):
    REFERRED = "referred"
    ELIGIBLE = "eligible"
    SLOT_BOOKED = "slot_booked"
    APHERESIS_COLLECTED = "apheresis_collected"
    IN_MANUFACTURING = "in_manufacturing"
    QC = "qc"
    RELEASED = "released"
    SHIPPED = "shipped"
    RECEIVED = "received"
    LYMPHODEPLETION = "lymphodepletion"
    INFUSED = "infused"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class WithdrawalReason(enum.StrEnum):
    DEATH = "death"
    PROGRESSION = "progression"
    INELIGIBLE = "ineligible"
    MANUFACTURING_FAILURE = "manufacturing_failure"
    PATIENT_DECISION = "patient_decision"
    CLINICAL_DECISION = "clinical_decision"
    OTHER = "other"


class Episode(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "episode"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 10", name="priority"),
        CheckConstraint(
            "(state = 'withdrawn') = (withdrawal_reason IS NOT NULL)", name="withdrawal_reason"
        ),
        Index("ix_episode_center_state", "center_id", "state"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"), index=True)
    # The treating center (normally the patient's) and the site that makes the product.
    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_center.id"))
    manufacturing_site_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("manufacturing_site.id"), index=True
    )
    # ISBT 128 Chain of Identity identifier (DS 040), assigned at referral, never reused.
    chain_of_identity: Mapped[str | None] = mapped_column(String(16), unique=True)
    state: Mapped[EpisodeState] = mapped_column(
        str_enum(EpisodeState), default=EpisodeState.REFERRED, index=True
    )
    state_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawal_reason: Mapped[WithdrawalReason | None] = mapped_column(str_enum(WithdrawalReason))
    withdrawn_from_state: Mapped[EpisodeState | None] = mapped_column(str_enum(EpisodeState))
    priority: Mapped[int] = mapped_column(default=5)
    referred_on: Mapped[dt.date]
    earliest_apheresis_date: Mapped[dt.date]
    latest_infusion_date: Mapped[dt.date | None]
    planned_apheresis_date: Mapped[dt.date | None]
    planned_infusion_date: Mapped[dt.date | None]
    apheresis_collected_at: Mapped[dt.datetime | None]
    infused_at: Mapped[dt.datetime | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship(lazy="raise")
    product: Mapped[Product] = relationship(lazy="raise")
    center: Mapped[TreatmentCenter] = relationship(lazy="raise")
    manufacturing_site: Mapped[ManufacturingSite] = relationship(lazy="raise")
    state_changes: Mapped[list[EpisodeStateChange]] = relationship(
        back_populates="episode", lazy="raise", order_by="EpisodeStateChange.occurred_at"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declared shape


class EpisodeStateChange(UUIDPrimaryKey, Base):
    """One step of the vein-to-vein path, append-only: who moved the episode, when and why."""

    __tablename__ = "episode_state_change"

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    transition: Mapped[str] = mapped_column(String(48))
    from_state: Mapped[EpisodeState] = mapped_column(str_enum(EpisodeState))
    to_state: Mapped[EpisodeState] = mapped_column(str_enum(EpisodeState))
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(Text, default="")

    episode: Mapped[Episode] = relationship(back_populates="state_changes", lazy="raise")
