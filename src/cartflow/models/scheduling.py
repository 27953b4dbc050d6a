"""Slot bookings: an apheresis chair on a day at the center and a manufacturing device for the
run's days at the site. Capacity is enforced by unique constraints, so two coordinators racing for
the last chair or device-day cannot both win, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.db.base import Base, UUIDPrimaryKey, str_enum, utcnow


class BookingStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class SlotBooking(UUIDPrimaryKey, Base):
    """One episode's booked apheresis chair and manufacturing device run."""

    __tablename__ = "slot_booking"
    __table_args__ = (
        CheckConstraint("chair_number >= 1", name="chair_number"),
        CheckConstraint("manufacturing_days >= 1", name="manufacturing_days"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_center.id"))
    apheresis_date: Mapped[dt.date]
    chair_number: Mapped[int]
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    manufacturing_start: Mapped[dt.date]
    manufacturing_days: Mapped[int]
    planned_release_date: Mapped[dt.date]
    planned_infusion_date: Mapped[dt.date]
    status: Mapped[BookingStatus] = mapped_column(
        str_enum(BookingStatus), default=BookingStatus.ACTIVE
    )
    booked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    booked_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")


class ChairDay(UUIDPrimaryKey, Base):
    """An apheresis chair taken on a day; the row exists only while its booking is active."""

    __tablename__ = "chair_day"
    __table_args__ = (UniqueConstraint("center_id", "day", "chair_number"),)

    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_center.id"))
    day: Mapped[dt.date]
    chair_number: Mapped[int]
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("slot_booking.id"), index=True)


class DeviceDay(UUIDPrimaryKey, Base):
    """A device-day taken by a manufacturing run; one batch per device per day."""

    __tablename__ = "device_day"
    __table_args__ = (UniqueConstraint("device_id", "day"),)

    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    day: Mapped[dt.date]
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("slot_booking.id"), index=True)
