"""Plain registry records: the database-free input of the exports (FHIR bundle, CSV).

The service layer fills these from the database; the exporters never query anything. Ids are the
project's own stable identifiers (strings), dates are `datetime.date` and instants are
timezone-aware `datetime` values (the bundle timestamp).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Sex = Literal["male", "female", "other", "unknown"]
ProcedureKind = Literal["apheresis", "infusion"]
ToxicityKind = Literal["CRS", "ICANS"]


@dataclass(frozen=True)
class PatientRecord:
    id: str
    registry_id: str
    """The registry's pseudonymous patient identifier (e.g. a CIBMTR CRID); never a name."""
    sex: Sex
    birth_year: int | None = None
    deceased_on: date | None = None


@dataclass(frozen=True)
class DiagnosisRecord:
    id: str
    patient_id: str
    code: str
    """Diagnosis code, e.g. ICD-10 "C83.3" (diffuse large B-cell lymphoma)."""
    display: str
    diagnosed_on: date | None = None
    code_system: str = "http://hl7.org/fhir/sid/icd-10"


@dataclass(frozen=True)
class ProcedureRecord:
    id: str
    patient_id: str
    kind: ProcedureKind
    performed_on: date
    product_id: str | None = None
    """For an infusion, the product infused."""


@dataclass(frozen=True)
class ProductRecord:
    id: str
    patient_id: str
    product_name: str
    """Product name, e.g. "axicabtagene ciloleucel" or an academic product's name."""
    chain_of_identity: str
    lot: str | None = None
    isbt128_product_code: str | None = None
    collected_on: date | None = None


@dataclass(frozen=True)
class ToxicityRecord:
    id: str
    patient_id: str
    kind: ToxicityKind
    max_grade: int
    """Maximum ASTCT grade (Lee et al., BBMT 2019;25:625), 0 when the toxicity did not occur."""
    onset_on: date | None = None
    grading_system: str = "ASTCT 2019"


@dataclass(frozen=True)
class ResponseRecord:
    id: str
    patient_id: str
    response: str
    """Best response category, e.g. "CR", "PR" (Lugano 2014) or "sCR", "VGPR" (IMWG 2016)."""
    assessed_on: date
    criteria: str = "Lugano 2014"


@dataclass(frozen=True)
class RegistryExport:
    """Everything one export contains; references between records are by id."""

    patients: tuple[PatientRecord, ...]
    diagnoses: tuple[DiagnosisRecord, ...] = ()
    procedures: tuple[ProcedureRecord, ...] = ()
    products: tuple[ProductRecord, ...] = ()
    toxicities: tuple[ToxicityRecord, ...] = ()
    responses: tuple[ResponseRecord, ...] = ()
