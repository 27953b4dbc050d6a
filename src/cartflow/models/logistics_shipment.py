"""Shipments of the cold chain, the data logger's temperature files, and quarantines.

Invariants: a shipment's temperature limits and maximum transit time are copied from the product's
rules when it is planned, so a later change of the product does not change what was applied; a
temperature file is stored whole or not at all (one import row with all its readings, the same
file never twice per shipment); a shipment has at most one open quarantine (partial unique index);
a quarantine is closed only by a qualified person's signed decision.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.db.base import Base, Timestamps, UUIDPrimaryKey, str_enum, utcnow


class ShipmentMaterial(enum.StrEnum):
    FRESH_APHERESIS = "fresh_apheresis"
    CRYOPRESERVED_APHERESIS = "cryopreserved_apheresis"
    CRYOPRESERVED_PRODUCT = "cryopreserved_product"


class ShipmentStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class QuarantineStatus(enum.StrEnum):
    OPEN = "open"
    RELEASED = "released"
    REJECTED = "rejected"


class Shipment(UUIDPrimaryKey, Timestamps, Base):
    """One courier journey of one episode's material between its center and its site."""

    __tablename__ = "logistics_shipment"
    __table_args__ = (
        CheckConstraint("planned_arrival_at > planned_departure_at", name="planned_window"),
        CheckConstraint("max_transit_hours > 0", name="max_transit"),
        CheckConstraint(
            "min_celsius IS NULL OR min_celsius < max_celsius", name="temperature_range"
        ),
        Index("ix_logistics_shipment_center_status", "center_id", "status"),
        Index("ix_logistics_shipment_site_status", "site_id", "status"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    material: Mapped[ShipmentMaterial] = mapped_column(str_enum(ShipmentMaterial))
    # Apheresis travels center -> site, the product site -> center (see `material`).
    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_center.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manufacturing_site.id"))
    shipper_serial: Mapped[str] = mapped_column(String(64))
    courier: Mapped[str] = mapped_column(String(200))
    tracking_number: Mapped[str] = mapped_column(String(64), default="")
    planned_departure_at: Mapped[dt.datetime]
    planned_arrival_at: Mapped[dt.datetime]
    departed_at: Mapped[dt.datetime | None]
    arrived_at: Mapped[dt.datetime | None]
    min_celsius: Mapped[float | None]
    max_celsius: Mapped[float]
    max_transit_hours: Mapped[int]
    status: Mapped[ShipmentStatus] = mapped_column(
        str_enum(ShipmentStatus), default=ShipmentStatus.PLANNED
    )
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))


class TemperatureImport(UUIDPrimaryKey, Base):
    """One data logger file, imported whole, with what the cold-chain rules found in it."""

    __tablename__ = "logistics_temperature_import"
    __table_args__ = (UniqueConstraint("shipment_id", "sha256"),)

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("logistics_shipment.id"))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    reading_count: Mapped[int]
    first_at: Mapped[dt.datetime]
    last_at: Mapped[dt.datetime]
    min_celsius: Mapped[float]
    max_celsius: Mapped[float]
    excursion: Mapped[bool]
    findings: Mapped[list[Any]]
    imported_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TemperatureReading(UUIDPrimaryKey, Base):
    __tablename__ = "logistics_temperature_reading"
    __table_args__ = (UniqueConstraint("import_id", "line"),)

    import_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("logistics_temperature_import.id"), index=True
    )
    line: Mapped[int]
    recorded_at: Mapped[dt.datetime]
    celsius: Mapped[float]


class Quarantine(UUIDPrimaryKey, Base):
    """Material held after a cold-chain excursion until a qualified person decides."""

    __tablename__ = "logistics_quarantine"
    __table_args__ = (
        CheckConstraint("(status = 'open') = (decided_at IS NULL)", name="decided"),
        Index(
            "uq_logistics_quarantine_open_shipment",
            "shipment_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    shipment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("logistics_shipment.id"))
    reason: Mapped[str] = mapped_column(Text)
    findings: Mapped[list[Any]]
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[QuarantineStatus] = mapped_column(
        str_enum(QuarantineStatus), default=QuarantineStatus.OPEN
    )
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    signature_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("electronic_signature.id"))


class QuarantinedContainer(UUIDPrimaryKey, Base):
    __tablename__ = "logistics_quarantine_container"
    __table_args__ = (UniqueConstraint("quarantine_id", "container_id"),)

    quarantine_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("logistics_quarantine.id"))
    container_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("custody_container.id"), index=True)
