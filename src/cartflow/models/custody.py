"""Chain of custody: the labelled containers of an episode, every hand-off scan that moved one of
them, and the deviations opened when a scan was refused.

Invariants: a container's DIN is unique (ISBT 128 DINs are never reused); a container takes each
hand-off step at most once (unique container + step, which also makes 50 simultaneous scans of one
container give one custody event); custody events are append-only and deviations are never
deleted (closing one records who closed it and why); the container row carries only the *current*
custodian, derived from its latest custody event.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.db.base import Base, Timestamps, UUIDPrimaryKey, str_enum, utcnow


class ContainerKind(enum.StrEnum):
    COLLECTION_BAG = "collection_bag"
    PRODUCT_BAG = "product_bag"
    CASSETTE = "cassette"
    SHIPPER = "shipper"


class ContainerStatus(enum.StrEnum):
    IN_USE = "in_use"
    CONSUMED = "consumed"
    QUARANTINED = "quarantined"
    DISCARDED = "discarded"


class HandoffStep(enum.StrEnum):
    """The scanned hand-offs of the vein-to-vein path, in order."""

    COLLECTION = "collection"
    APHERESIS_PICKUP = "apheresis_pickup"
    SITE_RECEIPT = "site_receipt"
    CRYOPRESERVATION = "cryopreservation"
    RELEASE = "release"
    PRODUCT_PICKUP = "product_pickup"
    CENTER_RECEIPT = "center_receipt"
    STORAGE = "storage"
    BEDSIDE = "bedside"


class CustodianKind(enum.StrEnum):
    CENTER = "center"
    COURIER = "courier"
    SITE = "site"
    PATIENT = "patient"


class DeviationStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CustodyContainer(UUIDPrimaryKey, Timestamps, Base):
    """One labelled container (bag, cassette or shipper) of one episode."""

    __tablename__ = "custody_container"
    __table_args__ = (
        CheckConstraint(
            "(custodian_kind = 'center') = (custodian_center_id IS NOT NULL)",
            name="custodian_center",
        ),
        CheckConstraint(
            "(custodian_kind = 'site') = (custodian_site_id IS NOT NULL)", name="custodian_site"
        ),
        CheckConstraint(
            "(custodian_kind = 'courier') = (custodian_user_id IS NOT NULL)",
            name="custodian_courier",
        ),
        Index("ix_custody_container_center_status", "custodian_center_id", "status"),
        Index("ix_custody_container_site_status", "custodian_site_id", "status"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    kind: Mapped[ContainerKind] = mapped_column(str_enum(ContainerKind))
    # ISBT 128 DIN (13 characters, no flags), allocated under the issuing site's FIN.
    din: Mapped[str] = mapped_column(String(13), unique=True)
    din_flags: Mapped[str] = mapped_column(String(2), default="00")
    product_code: Mapped[str | None] = mapped_column(String(8))
    chain_of_identity: Mapped[str] = mapped_column(String(15))
    status: Mapped[ContainerStatus] = mapped_column(
        str_enum(ContainerStatus), default=ContainerStatus.IN_USE
    )
    status_reason: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[dt.datetime | None]
    label_timezone: Mapped[str] = mapped_column(String(64))
    registered_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    # Current custody (None until the first hand-off), kept in step with the latest event.
    custodian_kind: Mapped[CustodianKind | None] = mapped_column(str_enum(CustodianKind))
    custodian_center_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("treatment_center.id"))
    custodian_site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("manufacturing_site.id"))
    custodian_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    location: Mapped[str] = mapped_column(String(200), default="")
    last_step: Mapped[HandoffStep | None] = mapped_column(str_enum(HandoffStep))
    last_event_at: Mapped[dt.datetime | None]


class CustodyEvent(UUIDPrimaryKey, Base):
    """One accepted hand-off scan of one container: from whom, to whom, who, when, where."""

    __tablename__ = "custody_event"
    __table_args__ = (
        UniqueConstraint("container_id", "step"),
        Index("ix_custody_event_episode_time", "episode_id", "occurred_at"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"))
    container_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("custody_container.id"))
    # The scans recorded by one request share a hand-off id (what a witness signs).
    handoff_id: Mapped[uuid.UUID] = mapped_column(index=True)
    step: Mapped[HandoffStep] = mapped_column(str_enum(HandoffStep))
    from_kind: Mapped[CustodianKind | None] = mapped_column(str_enum(CustodianKind))
    from_center_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("treatment_center.id"))
    from_site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("manufacturing_site.id"))
    from_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    to_kind: Mapped[CustodianKind] = mapped_column(str_enum(CustodianKind))
    to_center_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("treatment_center.id"))
    to_site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("manufacturing_site.id"))
    to_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    scanned_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    witness_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    witness_signature_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("electronic_signature.id")
    )
    location: Mapped[str] = mapped_column(String(200), default="")
    temperature_c: Mapped[float | None]
    raw_scan: Mapped[str] = mapped_column(String(400))
    entry: Mapped[str] = mapped_column(String(16))  # "barcode" or "keyboard"
    shipment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("logistics_shipment.id"), index=True
    )


class CustodyDeviation(UUIDPrimaryKey, Base):
    """A refused scan: the hand-off stopped and this record stays, whatever happens next."""

    __tablename__ = "custody_deviation"
    __table_args__ = (
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed"),
        Index("ix_custody_deviation_episode_status", "episode_id", "status"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"))
    step: Mapped[HandoffStep] = mapped_column(str_enum(HandoffStep))
    rule: Mapped[str] = mapped_column(String(48))
    message: Mapped[str] = mapped_column(Text)
    raw_scan: Mapped[str] = mapped_column(String(400))
    # The container the scan named, when it names one we know (possibly another episode's).
    scanned_container_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("custody_container.id")
    )
    location: Mapped[str] = mapped_column(String(200), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reported_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    status: Mapped[DeviationStatus] = mapped_column(
        str_enum(DeviationStatus), default=DeviationStatus.OPEN
    )
    closed_at: Mapped[dt.datetime | None]
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    closure_note: Mapped[str] = mapped_column(Text, default="")
