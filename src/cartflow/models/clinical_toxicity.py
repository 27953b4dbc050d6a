"""Toxicity after infusion: graded CRS/ICANS assessments, anti-cytokine treatments, blood counts.

An assessment stores its inputs (the grading contract's fields), the ASTCT grade and the rule that
set it; a correction is a new assessment that supersedes the old one (`supersedes_id`, unique) with
a reason, and only assessments nobody superseded count.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.db.base import Base, UUIDPrimaryKey, str_enum, utcnow


class ToxicityAssessment(UUIDPrimaryKey, Base):
    __tablename__ = "toxicity_assessment"
    __table_args__ = (
        CheckConstraint("crs_grade IS NULL OR crs_grade BETWEEN 0 AND 5", name="crs_grade"),
        CheckConstraint("icans_grade IS NULL OR icans_grade BETWEEN 0 AND 5", name="icans_grade"),
        CheckConstraint("crs_grade IS NOT NULL OR icans_grade IS NOT NULL", name="something"),
        CheckConstraint(
            "supersedes_id IS NULL OR correction_reason <> ''", name="correction_reason"
        ),
        Index("ix_toxicity_assessment_episode_at", "episode_id", "assessed_at"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"))
    assessed_at: Mapped[dt.datetime]
    assessed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The grading contract's input objects as graded (CRS `anticytokine_given` already includes
    # the episode's recorded tocilizumab or corticosteroid doses for CRS).
    crs_input: Mapped[dict[str, Any] | None]
    crs_grade: Mapped[int | None]
    crs_reason: Mapped[str] = mapped_column(Text, default="")
    icans_input: Mapped[dict[str, Any] | None]
    icans_grade: Mapped[int | None]
    icans_reason: Mapped[str] = mapped_column(Text, default="")
    grading_source: Mapped[str] = mapped_column(String(200))
    vitals: Mapped[dict[str, Any]]
    notes: Mapped[str] = mapped_column(Text, default="")
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("toxicity_assessment.id"), unique=True
    )
    correction_reason: Mapped[str] = mapped_column(Text, default="")


class TreatmentAgent(enum.StrEnum):
    TOCILIZUMAB = "tocilizumab"
    DEXAMETHASONE = "dexamethasone"
    METHYLPREDNISOLONE = "methylprednisolone"
    HYDROCORTISONE = "hydrocortisone"
    ANAKINRA = "anakinra"

    @property
    def is_corticosteroid(self) -> bool:
        return self in {
            TreatmentAgent.DEXAMETHASONE,
            TreatmentAgent.METHYLPREDNISOLONE,
            TreatmentAgent.HYDROCORTISONE,
        }


class TreatmentIndication(enum.StrEnum):
    CRS = "crs"
    ICANS = "icans"
    IEC_HS = "iec_hs"


class ToxicityTreatment(UUIDPrimaryKey, Base):
    __tablename__ = "toxicity_treatment"
    __table_args__ = (
        CheckConstraint("dose_mg > 0", name="dose"),
        CheckConstraint("weight_kg > 0", name="weight"),
        Index("ix_toxicity_treatment_episode_at", "episode_id", "given_at"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"))
    agent: Mapped[TreatmentAgent] = mapped_column(str_enum(TreatmentAgent))
    indication: Mapped[TreatmentIndication] = mapped_column(str_enum(TreatmentIndication))
    given_at: Mapped[dt.datetime]
    dose_mg: Mapped[float]
    route: Mapped[str] = mapped_column(String(16), default="iv")
    weight_kg: Mapped[float]
    label_dose_mg: Mapped[float | None]  # tocilizumab only
    rule_flags: Mapped[list[Any]]  # [{"code", "message"}] accepted with override_reason
    override_reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")


class BloodCount(UUIDPrimaryKey, Base):
    """One blood count for ICAHT grading and count recovery (ANC per uL, platelets x10^9/L)."""

    __tablename__ = "blood_count"
    __table_args__ = (
        CheckConstraint("anc_per_ul IS NULL OR anc_per_ul >= 0", name="anc"),
        CheckConstraint("platelets_10e9_per_l IS NULL OR platelets_10e9_per_l >= 0", name="plt"),
        Index("ix_blood_count_episode_on", "episode_id", "sampled_on"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"))
    sampled_on: Mapped[dt.date]
    anc_per_ul: Mapped[float | None]
    platelets_10e9_per_l: Mapped[float | None]
    platelet_transfusion: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
