"""The bedside identity check and the infusion.

Invariants held by the database as well as the service: the two people of a bedside check differ
(check constraint); a check is complete exactly when its second person is recorded; an episode
has at most one infusion, and a bedside check serves at most one infusion (unique keys); infusion
times are in order; an infusion outside the product's post-thaw window carries a deviation reason.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.db.base import Base, UUIDPrimaryKey, str_enum


class BedsideCheckStatus(enum.StrEnum):
    AWAITING_SECOND = "awaiting_second"
    VERIFIED = "verified"


class BedsideCheck(UUIDPrimaryKey, Base):
    __tablename__ = "bedside_check"
    __table_args__ = (
        CheckConstraint(
            "second_scanner_id IS NULL OR second_scanner_id <> first_scanner_id",
            name="two_people",
        ),
        CheckConstraint(
            "(status = 'verified') = (second_scanner_id IS NOT NULL)", name="verified_by_second"
        ),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    chain_of_identity: Mapped[str] = mapped_column(String(16))
    status: Mapped[BedsideCheckStatus] = mapped_column(str_enum(BedsideCheckStatus))
    first_scanner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    first_bag_scan: Mapped[str] = mapped_column(String(200))
    first_wristband_scan: Mapped[str] = mapped_column(String(200))
    first_scanned_at: Mapped[dt.datetime]
    second_scanner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    second_bag_scan: Mapped[str | None] = mapped_column(String(200))
    second_wristband_scan: Mapped[str | None] = mapped_column(String(200))
    second_scanned_at: Mapped[dt.datetime | None]


class Infusion(UUIDPrimaryKey, Base):
    __tablename__ = "infusion"
    __table_args__ = (
        CheckConstraint("thaw_completed_at >= thaw_started_at", name="thaw_order"),
        CheckConstraint("infusion_started_at >= thaw_completed_at", name="start_after_thaw"),
        CheckConstraint("infusion_ended_at >= infusion_started_at", name="end_after_start"),
        CheckConstraint("cells_infused_1e6 > 0", name="cells"),
        CheckConstraint("volume_ml > 0", name="volume"),
        CheckConstraint("bags >= 1", name="bags"),
        CheckConstraint(
            "NOT thaw_window_exceeded OR deviation_reason <> ''", name="deviation_reason"
        ),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), unique=True)
    bedside_check_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bedside_check.id"), unique=True)
    thaw_started_at: Mapped[dt.datetime]
    thaw_completed_at: Mapped[dt.datetime]
    infusion_started_at: Mapped[dt.datetime]
    infusion_ended_at: Mapped[dt.datetime]
    post_thaw_window_minutes: Mapped[int]
    thaw_to_end_minutes: Mapped[float]
    thaw_window_exceeded: Mapped[bool]
    deviation_reason: Mapped[str] = mapped_column(Text, default="")
    # The dose given: CAR-positive viable T cells (x10^6), volume and number of bags.
    cells_infused_1e6: Mapped[float]
    volume_ml: Mapped[float]
    bags: Mapped[int] = mapped_column(default=1)
    complete: Mapped[bool] = mapped_column(default=True)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime]
    notes: Mapped[str] = mapped_column(Text, default="")
