"""Outcomes after infusion: response assessments, progression or relapse, death, follow-up visits.

A patient dies once (unique patient); a follow-up visit is done once per episode and key (unique);
a response assessment is corrected by a new one that supersedes it.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.clinical.response import DeathCause
from cartflow.db.base import Base, UUIDPrimaryKey, str_enum, utcnow


class ResponseFramework(enum.StrEnum):
    LUGANO_PET = "lugano_pet"
    LUGANO_CT = "lugano_ct"
    IMWG = "imwg"
    B_ALL = "b_all"


class DiseaseEventKind(enum.StrEnum):
    PROGRESSION = "progression"
    RELAPSE = "relapse"


class ResponseAssessment(UUIDPrimaryKey, Base):
    __tablename__ = "response_assessment"
    __table_args__ = (
        CheckConstraint(
            "supersedes_id IS NULL OR correction_reason <> ''", name="correction_reason"
        ),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    assessed_on: Mapped[dt.date]
    day_after_infusion: Mapped[int | None]
    framework: Mapped[ResponseFramework] = mapped_column(str_enum(ResponseFramework))
    inputs: Mapped[dict[str, Any]]
    response: Mapped[str] = mapped_column(String(48))
    mrd_negative: Mapped[bool | None]
    source: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("response_assessment.id"), unique=True
    )
    correction_reason: Mapped[str] = mapped_column(Text, default="")


class DiseaseEvent(UUIDPrimaryKey, Base):
    __tablename__ = "disease_event"

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    kind: Mapped[DiseaseEventKind] = mapped_column(str_enum(DiseaseEventKind))
    occurred_on: Mapped[dt.date]
    cd19_negative: Mapped[bool | None]  # antigen-negative relapse, when known
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")


class DeathRecord(UUIDPrimaryKey, Base):
    __tablename__ = "death_record"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), unique=True)
    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    died_on: Mapped[dt.date]
    cause: Mapped[DeathCause] = mapped_column(str_enum(DeathCause))
    non_relapse_mortality: Mapped[bool]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")


class FollowUpVisit(UUIDPrimaryKey, Base):
    __tablename__ = "followup_visit"
    __table_args__ = (UniqueConstraint("episode_id", "visit_key"),)

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"))
    visit_key: Mapped[str] = mapped_column(String(16))
    completed_on: Mapped[dt.date]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")
