"""CSV export of dataclass records reads back with the standard csv module."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from cartflow.errors import InvalidInput
from cartflow.registry.records import PatientRecord, ToxicityRecord
from cartflow.registry.tabular_export import records_to_csv


def test_round_trip_keeps_values_and_quotes_commas() -> None:
    records = [
        ToxicityRecord("t-1", "p-1", "CRS", 3, date(2024, 2, 29), grading_system="ASTCT, 2019"),
        ToxicityRecord("t-2", "p-2", "ICANS", 0),
    ]
    rows = list(csv.DictReader(io.StringIO(records_to_csv(records))))
    assert rows[0] == {
        "id": "t-1",
        "patient_id": "p-1",
        "kind": "CRS",
        "max_grade": "3",
        "onset_on": "2024-02-29",
        "grading_system": "ASTCT, 2019",
    }
    assert rows[1]["onset_on"] == ""


def test_column_selection_and_order() -> None:
    text = records_to_csv(
        [PatientRecord("p-1", "CRID-1", "female", 1960)], columns=["registry_id", "sex"]
    )
    assert text == "registry_id,sex\nCRID-1,female\n"


def test_empty_list_with_type_gives_header_only() -> None:
    text = records_to_csv([], record_type=PatientRecord)
    assert text == "id,registry_id,sex,birth_year,deceased_on\n"


def test_mixed_records_unknown_columns_and_untyped_empty_lists_are_refused() -> None:
    with pytest.raises(InvalidInput):
        records_to_csv([PatientRecord("p", "c", "male"), ToxicityRecord("t", "p", "CRS", 1)])
    with pytest.raises(InvalidInput):
        records_to_csv([PatientRecord("p", "c", "male")], columns=["name"])
    with pytest.raises(InvalidInput):
        records_to_csv([])


def test_parquet_keeps_the_types() -> None:
    import pyarrow.parquet as pq

    from cartflow.registry.tabular_export import records_to_parquet

    rows = [
        ToxicityRecord(
            id="t1", patient_id="p1", kind="CRS", max_grade=3, onset_on=date(2026, 3, 2)
        ),
        ToxicityRecord(id="t2", patient_id="p2", kind="ICANS", max_grade=0),
    ]
    table = pq.read_table(io.BytesIO(records_to_parquet(rows)))
    assert table.column_names == [
        "id",
        "patient_id",
        "kind",
        "max_grade",
        "onset_on",
        "grading_system",
    ]
    data = table.to_pydict()
    assert data["max_grade"] == [3, 0]
    assert data["onset_on"] == [date(2026, 3, 2), None]
    assert data["kind"] == ["CRS", "ICANS"]
    with pytest.raises(InvalidInput):
        records_to_parquet([], columns=None)
