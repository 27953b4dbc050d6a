"""The FHIR R4 bundle parses back with fhir.resources and its references resolve."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from fhir.resources.R4B.biologicallyderivedproduct import BiologicallyDerivedProduct
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.procedure import Procedure

from cartflow.errors import InvalidInput
from cartflow.registry.fhir_export import build_fhir_bundle, fhir_bundle_json
from cartflow.registry.records import (
    DiagnosisRecord,
    PatientRecord,
    ProcedureRecord,
    ProductRecord,
    RegistryExport,
    ResponseRecord,
    ToxicityRecord,
)

STAMP = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _export() -> RegistryExport:
    return RegistryExport(
        patients=(
            PatientRecord("pat-1", "CRID-0001", "female", birth_year=1961),
            PatientRecord("pat-2", "CRID-0002", "male", deceased_on=date(2024, 11, 2)),
        ),
        diagnoses=(
            DiagnosisRecord("dx-1", "pat-1", "C83.3", "Diffuse large B-cell lymphoma"),
            DiagnosisRecord("dx-2", "pat-2", "C90.0", "Multiple myeloma", date(2021, 5, 4)),
        ),
        products=(
            ProductRecord(
                "prod-1", "pat-1", "Example CAR-T", "COI-7Q2", "LOT-9", "E7548V00", date(2024, 3, 1)
            ),
        ),
        procedures=(
            ProcedureRecord("aph-1", "pat-1", "apheresis", date(2024, 3, 1)),
            ProcedureRecord("inf-1", "pat-1", "infusion", date(2024, 3, 30), product_id="prod-1"),
        ),
        toxicities=(
            ToxicityRecord("crs-1", "pat-1", "CRS", 2, date(2024, 4, 2)),
            ToxicityRecord("icans-1", "pat-1", "ICANS", 0),
        ),
        responses=(ResponseRecord("resp-1", "pat-1", "CR", date(2024, 6, 28)),),
    )


def test_bundle_json_parses_back_with_fhir_resources() -> None:
    text = fhir_bundle_json(_export(), bundle_id="export-1", timestamp=STAMP)
    bundle = Bundle.model_validate_json(text)
    assert bundle.type == "collection"
    kinds = Counter(type(entry.resource).__name__ for entry in bundle.entry or [])
    assert kinds == {
        "Patient": 2,
        "Condition": 2,
        "BiologicallyDerivedProduct": 1,
        "Procedure": 2,
        "Observation": 3,
    }


def test_every_reference_points_to_an_entry() -> None:
    document = json.loads(fhir_bundle_json(_export(), bundle_id="export-1", timestamp=STAMP))
    addresses = {entry["fullUrl"] for entry in document["entry"]}
    references: list[str] = []

    def collect(node: object) -> None:
        if isinstance(node, dict):
            if set(node) >= {"reference"}:
                references.append(node["reference"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document["entry"])
    assert references
    assert set(references) <= addresses


def test_infusion_uses_the_product_and_toxicity_carries_the_grade() -> None:
    entries = build_fhir_bundle(_export(), bundle_id="export-1", timestamp=STAMP).entry or []
    product_url = next(
        e.fullUrl for e in entries if isinstance(e.resource, BiologicallyDerivedProduct)
    )
    used = [
        reference.reference
        for e in entries
        if isinstance(e.resource, Procedure)
        for reference in e.resource.usedReference or []
    ]
    assert used == [product_url]
    grades = {
        coding.code: e.resource.valueInteger
        for e in entries
        if isinstance(e.resource, Observation) and e.resource.valueInteger is not None
        for coding in e.resource.code.coding or []
    }
    assert grades == {"crs-max-grade": 2, "icans-max-grade": 0}


def test_same_records_give_the_same_bundle() -> None:
    first = fhir_bundle_json(_export(), bundle_id="export-1", timestamp=STAMP)
    second = fhir_bundle_json(_export(), bundle_id="export-1", timestamp=STAMP)
    assert first == second


def test_dangling_patient_reference_is_refused() -> None:
    export = RegistryExport(
        patients=(PatientRecord("pat-1", "CRID-0001", "female"),),
        toxicities=(ToxicityRecord("crs-9", "pat-404", "CRS", 3),),
    )
    with pytest.raises(InvalidInput, match="pat-404"):
        build_fhir_bundle(export, bundle_id="x", timestamp=STAMP)


def test_unknown_product_on_infusion_is_refused() -> None:
    export = RegistryExport(
        patients=(PatientRecord("pat-1", "CRID-0001", "female"),),
        procedures=(ProcedureRecord("inf-1", "pat-1", "infusion", date(2024, 1, 1), "nope"),),
    )
    with pytest.raises(InvalidInput, match="nope"):
        build_fhir_bundle(export, bundle_id="x", timestamp=STAMP)


def test_naive_timestamp_and_impossible_grade_are_refused() -> None:
    with pytest.raises(InvalidInput):
        build_fhir_bundle(_export(), bundle_id="x", timestamp=datetime(2025, 1, 1))  # noqa: DTZ001
    export = RegistryExport(
        patients=(PatientRecord("pat-1", "CRID-0001", "female"),),
        toxicities=(ToxicityRecord("crs-1", "pat-1", "CRS", 7),),
    )
    with pytest.raises(InvalidInput):
        build_fhir_bundle(export, bundle_id="x", timestamp=STAMP)


def test_duplicate_record_ids_are_refused() -> None:
    export = RegistryExport(
        patients=(
            PatientRecord("pat-1", "CRID-0001", "female"),
            PatientRecord("pat-1", "CRID-0002", "male"),
        )
    )
    with pytest.raises(InvalidInput, match="pat-1"):
        build_fhir_bundle(export, bundle_id="x", timestamp=STAMP)
