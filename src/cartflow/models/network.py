"""The network: manufacturing sites and their devices, treatment centers, routes between them."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cartflow.db.base import Base, Timestamps, UUIDPrimaryKey, str_enum


class PatientPopulation(enum.StrEnum):
    PEDIATRIC = "pediatric"
    ADULT = "adult"
    BOTH = "both"


class ManufacturingSite(UUIDPrimaryKey, Timestamps, Base):
    """A GMP facility. Its ISBT 128 facility identification number (FIN) prefixes every
    identifier it assigns; a real site needs its own ICCBBA-licensed FIN."""

    __tablename__ = "manufacturing_site"
    __table_args__ = (CheckConstraint("qc_release_capacity_per_day >= 0", name="qc_capacity"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="RU")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    facility_identification_number: Mapped[str] = mapped_column(String(5), unique=True)
    qc_release_capacity_per_day: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)

    devices: Mapped[list[Device]] = relationship(
        back_populates="site", lazy="raise", order_by="Device.code"
    )


class Device(UUIDPrimaryKey, Timestamps, Base):
    """A manufacturing device or clean-room suite: one batch at a time."""

    __tablename__ = "device"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manufacturing_site.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))  # e.g. "CliniMACS Prodigy", "clean-room suite"
    active: Mapped[bool] = mapped_column(default=True)

    site: Mapped[ManufacturingSite] = relationship(back_populates="devices", lazy="raise")


class TreatmentCenter(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "treatment_center"
    __table_args__ = (
        CheckConstraint("apheresis_chairs_per_day >= 0", name="chairs"),
        CheckConstraint("infusion_beds_per_day >= 0", name="beds"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    population: Mapped[PatientPopulation] = mapped_column(str_enum(PatientPopulation))
    apheresis_chairs_per_day: Mapped[int]
    infusion_beds_per_day: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)

    routes: Mapped[list[CenterSiteRoute]] = relationship(back_populates="center", lazy="raise")


class CenterSiteRoute(UUIDPrimaryKey, Base):
    """Courier transit between a treatment center and a manufacturing site (days, each way)."""

    __tablename__ = "center_site_route"
    __table_args__ = (
        UniqueConstraint("center_id", "site_id"),
        CheckConstraint("transit_days >= 0", name="transit_days"),
    )

    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_center.id"))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manufacturing_site.id"))
    transit_days: Mapped[int]
    # ISO weekdays (1 = Monday) on which the courier runs this route.
    courier_weekdays: Mapped[str] = mapped_column(String(16), default="12345")

    center: Mapped[TreatmentCenter] = relationship(back_populates="routes", lazy="raise")
    site: Mapped[ManufacturingSite] = relationship(lazy="raise")
