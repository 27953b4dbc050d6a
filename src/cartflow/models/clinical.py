"""Clinical records before infusion: a product's eligibility protocol, consents, eligibility
assessments, lymphodepletion plans and the CAR-HEMATOTOX baseline.

Nothing here is edited in place once recorded: a protocol is superseded by a new version, a plan by
a re-plan that links to it (`supersedes_id`, unique, so a plan is superseded at most once), and a
withdrawn consent keeps its row with the withdrawal date.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.clinical.lymphodepletion import RenalFunction
from cartflow.db.base import Base, UUIDPrimaryKey, str_enum, utcnow


class ConsentKind(enum.StrEnum):
    TREATMENT = "treatment"
    LONG_TERM_FOLLOW_UP = "long_term_follow_up"
    REGISTRY = "registry"


class ClinicalProtocol(UUIDPrimaryKey, Base):
    """A product's eligibility criteria and default lymphodepletion regimen, versioned."""

    __tablename__ = "clinical_protocol"
    __table_args__ = (
        UniqueConstraint("product_id", "version"),
        CheckConstraint("max_ecog IS NULL OR max_ecog BETWEEN 0 AND 4", name="max_ecog"),
        CheckConstraint(
            "min_karnofsky_lansky IS NULL OR min_karnofsky_lansky BETWEEN 0 AND 100",
            name="min_karnofsky_lansky",
        ),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"), index=True)
    version: Mapped[int]
    max_ecog: Mapped[int | None]
    min_karnofsky_lansky: Mapped[int | None]
    # LabTest value -> {"min": x} and/or {"max": y}; validated by clinical.eligibility.LabLimit.
    lab_limits: Mapped[dict[str, Any]]
    ld_regimen_code: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(500), default="")
    effective_from: Mapped[dt.datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))


class Consent(UUIDPrimaryKey, Base):
    """A signed consent form on record for one episode (the paper form stays in the chart)."""

    __tablename__ = "clinical_consent"
    __table_args__ = (
        CheckConstraint(
            "withdrawn_on IS NULL OR withdrawn_on >= signed_on", name="withdrawn_after_signed"
        ),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    kind: Mapped[ConsentKind] = mapped_column(str_enum(ConsentKind))
    signed_on: Mapped[dt.date]
    form_version: Mapped[str] = mapped_column(String(64))
    signed_by: Mapped[str] = mapped_column(String(32))  # patient, parent, legal_guardian
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_on: Mapped[dt.date | None]
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")


class EligibilityAssessment(UUIDPrimaryKey, Base):
    """One eligibility visit: findings, the protocol version used and every failed rule."""

    __tablename__ = "eligibility_assessment"

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    assessed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    assessed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    # None when the product has no protocol of its own and the default criteria applied.
    protocol_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clinical_protocol.id"))
    criteria: Mapped[dict[str, Any]]  # the criteria as applied, for the record
    findings: Mapped[dict[str, Any]]
    eligible: Mapped[bool]
    failures: Mapped[list[Any]]  # [{"code": ..., "message": ...}]
    notes: Mapped[str] = mapped_column(Text, default="")


class LymphodepletionPlan(UUIDPrimaryKey, Base):
    """Dated Flu/Cy doses for one episode; a re-plan supersedes the previous plan."""

    __tablename__ = "lymphodepletion_plan"
    __table_args__ = (
        CheckConstraint("bsa_m2 > 0", name="bsa"),
        CheckConstraint(
            "fludarabine_dose_factor >= 0 AND fludarabine_dose_factor <= 1", name="flu_factor"
        ),
        CheckConstraint("(started_at IS NULL) = (started_by_id IS NULL)", name="started"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    regimen_code: Mapped[str] = mapped_column(String(32))
    regimen: Mapped[dict[str, Any]]  # the LdRegimen used, as data
    infusion_date: Mapped[dt.date]
    height_cm: Mapped[float]
    weight_kg: Mapped[float]
    bsa_m2: Mapped[float]
    crcl_ml_min: Mapped[float]
    renal_function: Mapped[RenalFunction] = mapped_column(str_enum(RenalFunction))
    reduced_renal_function: Mapped[bool]
    renal_reason: Mapped[str] = mapped_column(Text)
    fludarabine_dose_factor: Mapped[float]
    doses: Mapped[list[Any]]  # LdDose rows as data
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("lymphodepletion_plan.id"), unique=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[dt.datetime | None]
    started_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))


class HematotoxAssessment(UUIDPrimaryKey, Base):
    """CAR-HEMATOTOX baseline (Rejeski 2021) from labs drawn before lymphodepletion."""

    __tablename__ = "hematotox_assessment"
    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 7", name="score"),
        Index("ix_hematotox_assessment_episode_measured", "episode_id", "measured_on"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"))
    measured_on: Mapped[dt.date]
    platelets_10e9_per_l: Mapped[float]
    anc_per_ul: Mapped[float]
    hemoglobin_g_per_dl: Mapped[float]
    crp_mg_per_dl: Mapped[float]
    ferritin_ng_per_ml: Mapped[float]
    score: Mapped[int]
    risk: Mapped[str] = mapped_column(String(8))
    points: Mapped[dict[str, Any]]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
