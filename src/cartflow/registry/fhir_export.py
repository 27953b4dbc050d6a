"""HL7 FHIR R4 Bundle of registry records (pure builder: records in, validated Bundle out).

Resources (FHIR R4, http://hl7.org/fhir/R4/): Patient, Condition (diagnosis), Procedure
(apheresis, infusion), BiologicallyDerivedProduct (the CAR-T product, R4 shape) and Observation
(maximum CRS and ICANS grade, best response). The models come from `fhir.resources.R4B`: the
package (8.x) ships R5, R4B and STU3 but not 4.0.1, and R4B (4.3.0) left these six resources
unchanged from R4, so the JSON is R4-conformant. Every resource is validated by the library while
the bundle is built.

The bundle is a "collection"; entries are addressed by `urn:uuid:` full URLs derived (UUID 5)
from the resource type and the project's record id, so the same records always give the same
bundle, and references between entries are those URNs. Codes the project defines (procedure kind,
toxicity and response observation codes, identifier systems) live under `CODE_SYSTEM_BASE`; a
terminology review should map them to SNOMED CT / LOINC before exchange with a registry. Chains of
identity use the ISBT 128 OID (2.16.840.1.113883.6.18, HL7 terminology `ib`) only when an ISBT 128
product code is present.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.registry.records import (
    DiagnosisRecord,
    PatientRecord,
    ProcedureRecord,
    ProductRecord,
    RegistryExport,
    ResponseRecord,
    ToxicityRecord,
)

CODE_SYSTEM_BASE = "https://cartflow.dev/fhir"
ISBT128_SYSTEM = "urn:oid:2.16.840.1.113883.6.18"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, CODE_SYSTEM_BASE)

Json = dict[str, Any]

PROCEDURE_DISPLAY = {
    "apheresis": "Leukapheresis for CAR-T manufacturing",
    "infusion": "CAR-T cell infusion",
}
TOXICITY_DISPLAY = {
    "CRS": "Maximum cytokine release syndrome grade",
    "ICANS": "Maximum immune effector cell-associated neurotoxicity syndrome grade",
}


def resource_id(resource_type: str, record_id: str) -> str:
    """The FHIR id (a UUID 5 of type and record id: any record id fits FHIR's id pattern)."""
    return str(uuid.uuid5(_NAMESPACE, f"{resource_type}/{record_id}"))


def full_url(resource_type: str, record_id: str) -> str:
    """The entry's stable `urn:uuid:` address."""
    return f"urn:uuid:{resource_id(resource_type, record_id)}"


def _record_identifier(record_id: str) -> Json:
    return {"system": f"{CODE_SYSTEM_BASE}/record-id", "value": record_id}


def _code(system_suffix: str, code: str, display: str) -> Json:
    return {
        "coding": [
            {"system": f"{CODE_SYSTEM_BASE}/{system_suffix}", "code": code, "display": display}
        ],
        "text": display,
    }


class _Index:
    """Known record ids per resource type, to refuse dangling references."""

    def __init__(self, export: RegistryExport) -> None:
        self.patients = {p.id for p in export.patients}
        self.products = {p.id for p in export.products}
        self.procedures = {p.id for p in export.procedures}

    def patient(self, record_id: str, owner: str) -> Json:
        if record_id not in self.patients:
            raise InvalidInput(
                _(
                    "{owner} refers to patient {record}, which is not in the export",
                    owner=owner,
                    record=repr(record_id),
                ),
                code="REGISTRY-EXPORT-DANGLING",
                field="patient_id",
            )
        return {"reference": full_url("Patient", record_id)}

    def ref(self, resource_type: str, record_id: str, known: set[str], owner: str) -> Json:
        if record_id not in known:
            raise InvalidInput(
                _(
                    "{owner} refers to {kind} {record}, which is not in the export",
                    owner=owner,
                    kind=resource_type,
                    record=repr(record_id),
                ),
                code="REGISTRY-EXPORT-DANGLING",
            )
        return {"reference": full_url(resource_type, record_id)}


def _patient(record: PatientRecord) -> Json:
    resource: Json = {
        "resourceType": "Patient",
        "id": resource_id("Patient", record.id),
        "identifier": [
            _record_identifier(record.id),
            {"system": f"{CODE_SYSTEM_BASE}/registry-id", "value": record.registry_id},
        ],
        "gender": record.sex,
    }
    if record.birth_year is not None:
        resource["birthDate"] = f"{record.birth_year:04d}"
    if record.deceased_on is not None:
        resource["deceasedDateTime"] = record.deceased_on.isoformat()
    return resource


def _condition(record: DiagnosisRecord, index: _Index) -> Json:
    resource: Json = {
        "resourceType": "Condition",
        "id": resource_id("Condition", record.id),
        "identifier": [_record_identifier(record.id)],
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]},
        "code": {
            "coding": [
                {"system": record.code_system, "code": record.code, "display": record.display}
            ],
            "text": record.display,
        },
        "subject": index.patient(record.patient_id, f"diagnosis {record.id}"),
    }
    if record.diagnosed_on is not None:
        resource["onsetDateTime"] = record.diagnosed_on.isoformat()
    return resource


def _procedure(record: ProcedureRecord, index: _Index) -> Json:
    resource: Json = {
        "resourceType": "Procedure",
        "id": resource_id("Procedure", record.id),
        "identifier": [_record_identifier(record.id)],
        "status": "completed",
        "code": _code("procedure", record.kind, PROCEDURE_DISPLAY[record.kind]),
        "subject": index.patient(record.patient_id, f"procedure {record.id}"),
        "performedDateTime": record.performed_on.isoformat(),
    }
    if record.product_id is not None:
        resource["usedReference"] = [
            index.ref(
                "BiologicallyDerivedProduct",
                record.product_id,
                index.products,
                f"procedure {record.id}",
            )
        ]
    return resource


def _product(record: ProductRecord, index: _Index) -> Json:
    identifiers: list[Json] = [
        _record_identifier(record.id),
        {"system": f"{CODE_SYSTEM_BASE}/chain-of-identity", "value": record.chain_of_identity},
    ]
    if record.lot is not None:
        identifiers.append({"system": f"{CODE_SYSTEM_BASE}/lot", "value": record.lot})
    product_code: Json = {"text": record.product_name}
    if record.isbt128_product_code is not None:
        product_code["coding"] = [{"system": ISBT128_SYSTEM, "code": record.isbt128_product_code}]
    collection: Json = {"source": index.patient(record.patient_id, f"product {record.id}")}
    if record.collected_on is not None:
        collection["collectedDateTime"] = record.collected_on.isoformat()
    return {
        "resourceType": "BiologicallyDerivedProduct",
        "id": resource_id("BiologicallyDerivedProduct", record.id),
        "identifier": identifiers,
        "productCategory": "cells",
        "productCode": product_code,
        "quantity": 1,
        "collection": collection,
    }


def _observation_base(
    kind: str, record_id: str, patient: Json, code: Json, when: str | None
) -> Json:
    resource: Json = {
        "resourceType": "Observation",
        "id": resource_id(f"Observation/{kind}", record_id),
        "identifier": [_record_identifier(record_id)],
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "exam"}]}],
        "code": code,
        "subject": patient,
    }
    if when is not None:
        resource["effectiveDateTime"] = when
    return resource


def _toxicity(record: ToxicityRecord, index: _Index) -> Json:
    if not 0 <= record.max_grade <= 5:
        raise InvalidInput(
            _(
                "toxicity {record}: grade {grade} is outside 0-5",
                record=record.id,
                grade=record.max_grade,
            ),
            code="REGISTRY-EXPORT-GRADE",
            field="max_grade",
        )
    code = record.kind.lower() + "-max-grade"
    resource = _observation_base(
        "toxicity",
        record.id,
        index.patient(record.patient_id, f"toxicity {record.id}"),
        _code("observation", code, TOXICITY_DISPLAY[record.kind]),
        record.onset_on.isoformat() if record.onset_on else None,
    )
    resource["valueInteger"] = record.max_grade
    resource["method"] = {"text": record.grading_system}
    return resource


def _response(record: ResponseRecord, index: _Index) -> Json:
    resource = _observation_base(
        "response",
        record.id,
        index.patient(record.patient_id, f"response {record.id}"),
        _code("observation", "best-response", "Best response to CAR-T therapy"),
        record.assessed_on.isoformat(),
    )
    resource["valueCodeableConcept"] = {
        "coding": [{"system": f"{CODE_SYSTEM_BASE}/response", "code": record.response}],
        "text": record.response,
    }
    resource["method"] = {"text": record.criteria}
    return resource


def build_fhir_bundle(export: RegistryExport, *, bundle_id: str, timestamp: datetime) -> Bundle:
    """Validated FHIR R4 collection Bundle of every record in `export`."""
    if timestamp.tzinfo is None:
        raise InvalidInput(_("the bundle timestamp must be timezone-aware"), field="timestamp")
    index = _Index(export)
    resources: list[Json] = [_patient(p) for p in export.patients]
    resources += [_condition(d, index) for d in export.diagnoses]
    resources += [_product(p, index) for p in export.products]
    resources += [_procedure(p, index) for p in export.procedures]
    resources += [_toxicity(t, index) for t in export.toxicities]
    resources += [_response(r, index) for r in export.responses]
    ids = [r["id"] for r in resources]
    if len(set(ids)) != len(ids):
        duplicated = next(r for r in resources if ids.count(r["id"]) > 1)
        raise InvalidInput(
            _(
                "two {kind} records share the id {record}",
                kind=duplicated["resourceType"],
                record=repr(duplicated["identifier"][0]["value"]),
            ),
            code="REGISTRY-EXPORT-DUPLICATE",
        )
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    try:
        return Bundle.model_validate(
            {
                "resourceType": "Bundle",
                "identifier": {"system": f"{CODE_SYSTEM_BASE}/export", "value": bundle_id},
                "type": "collection",
                "timestamp": timestamp.isoformat(),
                "entry": entries,
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            _("record does not fit FHIR R4 at {where}: {reason}", where=where, reason=first["msg"]),
            code="REGISTRY-EXPORT-INVALID",
        ) from None


def fhir_bundle_json(export: RegistryExport, *, bundle_id: str, timestamp: datetime) -> str:
    """The bundle as FHIR JSON text."""
    bundle = build_fhir_bundle(export, bundle_id=bundle_id, timestamp=timestamp)
    text: str = bundle.model_dump_json()
    return text
