"""All tables, one module per aggregate. Importing this package registers every table on Base."""

from cartflow.models.audit import AuditEvent
from cartflow.models.episode import (
    Episode,
    EpisodeState,
    EpisodeStateChange,
    WithdrawalReason,
)
from cartflow.models.identity import IdentifierSequence
from cartflow.models.network import (
    CenterSiteRoute,
    Device,
    ManufacturingSite,
    PatientPopulation,
    TreatmentCenter,
)
from cartflow.models.patient import Diagnosis, DiseaseStatus, Patient, Sex
from cartflow.models.product import (
    Product,
    ProductIndication,
    ProductKind,
    ReleaseSpecification,
)
from cartflow.models.user import AuthSession, Role, RoleAssignment, User

__all__ = [
    "AuditEvent",
    "AuthSession",
    "CenterSiteRoute",
    "Device",
    "Diagnosis",
    "DiseaseStatus",
    "Episode",
    "EpisodeState",
    "EpisodeStateChange",
    "IdentifierSequence",
    "ManufacturingSite",
    "Patient",
    "PatientPopulation",
    "Product",
    "ProductIndication",
    "ProductKind",
    "ReleaseSpecification",
    "Role",
    "RoleAssignment",
    "Sex",
    "TreatmentCenter",
    "User",
    "WithdrawalReason",
]
