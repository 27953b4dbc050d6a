"""All tables, one module per aggregate. Importing this package registers every table on Base.

Every module in this package is imported below, so a new aggregate's module is picked up by the
migrations and the drift check without editing this file; the names re-exported here are the
foundation's.
"""

import importlib
import pkgutil

from cartflow.models.audit import AuditEvent, AuditEventStaged
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
from cartflow.models.signature import ElectronicSignature
from cartflow.models.user import AuthSession, Role, RoleAssignment, User

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "AuditEvent",
    "AuditEventStaged",
    "AuthSession",
    "CenterSiteRoute",
    "Device",
    "Diagnosis",
    "DiseaseStatus",
    "ElectronicSignature",
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
