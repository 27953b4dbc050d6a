"""Patients, registered by their treatment center under a pseudonymous id.

Every query on patients is scoped to the acting user's center (see `cartflow.auth.scope`).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cartflow.db.base import Base, Timestamps, UUIDPrimaryKey, str_enum
from cartflow.models.network import TreatmentCenter


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"


class Diagnosis(enum.StrEnum):
    B_ALL = "B-ALL"
    DLBCL = "DLBCL"
    PMBCL = "PMBCL"
    HGBCL = "HGBCL"
    FOLLICULAR_LYMPHOMA = "FL"
    MANTLE_CELL_LYMPHOMA = "MCL"
    MULTIPLE_MYELOMA = "MM"

    @property
    def is_b_nhl(self) -> bool:
        return self in {
            Diagnosis.DLBCL,
            Diagnosis.PMBCL,
            Diagnosis.HGBCL,
            Diagnosis.FOLLICULAR_LYMPHOMA,
            Diagnosis.MANTLE_CELL_LYMPHOMA,
        }


class DiseaseStatus(enum.StrEnum):
    RELAPSED = "relapsed"
    REFRACTORY = "refractory"
    MRD_POSITIVE = "mrd_positive"
    STABLE = "stable"
    PROGRESSING = "progressing"
    COMPLETE_REMISSION = "complete_remission"
    PARTIAL_REMISSION = "partial_remission"


class Patient(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "patient"
    __table_args__ = (
        UniqueConstraint("center_id", "mrn"),
        CheckConstraint("weight_kg > 0 AND weight_kg < 400", name="weight"),
        CheckConstraint("height_cm > 0 AND height_cm < 260", name="height"),
    )

    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    center_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("treatment_center.id"), index=True)
    mrn: Mapped[str] = mapped_column(String(64))
    family_name: Mapped[str] = mapped_column(String(100), default="")
    given_name: Mapped[str] = mapped_column(String(100), default="")
    date_of_birth: Mapped[dt.date]
    sex: Mapped[Sex] = mapped_column(str_enum(Sex))
    weight_kg: Mapped[float]
    height_cm: Mapped[float]
    diagnosis: Mapped[Diagnosis] = mapped_column(str_enum(Diagnosis))
    disease_status: Mapped[DiseaseStatus] = mapped_column(str_enum(DiseaseStatus))
    prior_lines_of_therapy: Mapped[int] = mapped_column(default=0)
    # Demo and test patients are synthetic and say so wherever they are shown.
    is_synthetic: Mapped[bool] = mapped_column(default=False)

    center: Mapped[TreatmentCenter] = relationship(lazy="raise")

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years
