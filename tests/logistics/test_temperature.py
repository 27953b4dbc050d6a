"""The data logger file and the cold-chain limits (pure functions).

Limits come from the reference notes: fresh apheresis 2-8 °C (Yakoub-Agha et al., Haematologica
2020), cryopreserved material at or below its storage temperature (-150 °C in the vapour phase),
a dry shipper's static hold of at least 10 days.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cartflow.logistics.errors import MalformedTemperatureFile
from cartflow.logistics.temperature import (
    ColdChainLimits,
    limits_for,
    parse_temperature_csv,
    reading_at_handoff,
    temperature_findings,
    transit_findings,
)
from cartflow.models.logistics_shipment import ShipmentMaterial as M

T0 = dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.UTC)
FRESH = ColdChainLimits(2.0, 8.0, 48)
FROZEN = ColdChainLimits(None, -150.0, 240)


def csv_of(*celsius: float, start: dt.datetime = T0) -> str:
    lines = ["timestamp,celsius"]
    for minutes, value in enumerate(celsius):
        lines.append(f"{(start + dt.timedelta(minutes=10 * minutes)).isoformat()},{value}")
    return "\n".join(lines) + "\n"


def test_a_logger_file_reads_with_offsets_header_bom_and_blank_lines() -> None:
    text = (
        "\ufefftimestamp,celsius\r\n"
        "2026-03-01T08:00:00+03:00,4.5\r\n"
        "\r\n"
        "2026-03-01T05:10:00Z, 5\r\n"
    )
    readings = parse_temperature_csv(text)
    assert [(r.line, r.celsius) for r in readings] == [(2, 4.5), (4, 5.0)]
    assert readings[0].recorded_at == T0
    assert readings[1].recorded_at.tzinfo is dt.UTC


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("2026-03-01T05:00:00Z,4\n2026-03-01T05:10:00Z\n", 2, "expected 2 fields"),
        ("2026-03-01T05:00:00Z,4\n2026-03-01T05:10:00Z,4,5\n", 2, "found 3"),
        ("2026-03-01T05:00:00Z,4\n01.03.2026 05:10,4\n", 2, "not ISO 8601"),
        ("2026-03-01T05:00:00,4\n", 1, "no UTC offset"),
        ("2026-03-01T05:00:00Z,4\n2026-03-01T05:10:00Z,warm\n", 2, "not a number"),
        ("2026-03-01T05:00:00Z,4\n2026-03-01T05:10:00Z,nan\n", 2, "not a physical reading"),
        ("2026-03-01T05:00:00Z,4\n2026-03-01T05:10:00Z,-300\n", 2, "not a physical reading"),
        ("2026-03-01T05:10:00Z,4\n2026-03-01T05:10:00Z,4\n", 2, "not after line 1"),
        ("timestamp,celsius\n\n", None, "no readings"),
        ('2026-03-01T05:00:00Z,4\n"2026-03-01T05:10:00Z,4\n', 2, "expected 2 fields"),
    ],
)
def test_a_malformed_line_refuses_the_file_with_its_number(
    text: str, line: int | None, words: str
) -> None:
    with pytest.raises(MalformedTemperatureFile) as refused:
        parse_temperature_csv(text)
    assert refused.value.line == line
    assert words in refused.value.message
    if line is not None:
        assert refused.value.message.startswith(f"line {line}:")


def test_the_published_limits_are_inclusive() -> None:
    # "2-8 °C" admits 2 and 8; "at or below -150 °C" admits -150.
    ok = parse_temperature_csv(csv_of(2.0, 8.0, 5.0))
    assert temperature_findings(ok, FRESH, start=None, end=None) == []
    assert (
        temperature_findings(parse_temperature_csv(csv_of(-150.0)), FROZEN, start=None, end=None)
        == []
    )
    warm = temperature_findings(
        parse_temperature_csv(csv_of(4, 8.1, 9.5, 4)), FRESH, start=None, end=None
    )
    assert [f.rule for f in warm] == ["TEMP-HIGH"]
    assert "2 readings above 8 °C, the highest 9.5 °C" in warm[0].message
    assert "(line 4)" in warm[0].message
    cold = temperature_findings(parse_temperature_csv(csv_of(1.9)), FRESH, start=None, end=None)
    assert [f.rule for f in cold] == ["TEMP-LOW"]
    thawing = temperature_findings(
        parse_temperature_csv(csv_of(-149.9)), FROZEN, start=None, end=None
    )
    assert [f.rule for f in thawing] == ["TEMP-HIGH"]


def test_only_readings_in_transit_count() -> None:
    # The logger is started in a warm room before the shipper is charged and closed.
    readings = parse_temperature_csv(csv_of(20, 20, -190, -185))
    start = T0 + dt.timedelta(minutes=20)
    assert temperature_findings(readings, FROZEN, start=start, end=None) == []
    late = T0 + dt.timedelta(hours=5)
    [finding] = temperature_findings(readings, FROZEN, start=late, end=None)
    assert finding.rule == "TEMP-NO-DATA"


def test_limits_per_material_and_only_stricter_transit() -> None:
    assert limits_for(M.FRESH_APHERESIS, storage_max_c=-120, fresh_max_hours=48) == FRESH
    assert limits_for(M.CRYOPRESERVED_APHERESIS, storage_max_c=-120, fresh_max_hours=None) == (
        ColdChainLimits(None, -150.0, 240)
    )
    assert limits_for(M.CRYOPRESERVED_PRODUCT, storage_max_c=-120, fresh_max_hours=None) == (
        ColdChainLimits(None, -120, 240)
    )
    stricter = limits_for(
        M.CRYOPRESERVED_PRODUCT, storage_max_c=-150, fresh_max_hours=None, max_transit_hours=72
    )
    assert stricter.max_transit_hours == 72
    with pytest.raises(ValueError, match="1 to 240"):
        limits_for(
            M.CRYOPRESERVED_PRODUCT, storage_max_c=-150, fresh_max_hours=None, max_transit_hours=300
        )
    with pytest.raises(ValueError, match="cryopreserved apheresis"):
        limits_for(M.FRESH_APHERESIS, storage_max_c=-120, fresh_max_hours=None)


def test_transit_and_fresh_time_limits() -> None:
    on_time = transit_findings(FRESH, departed_at=T0, arrived_at=T0 + dt.timedelta(hours=48))
    assert on_time == []
    late = transit_findings(
        FRESH, departed_at=T0, arrived_at=T0 + dt.timedelta(hours=48, minutes=1)
    )
    assert [f.rule for f in late] == ["TRANSIT-TIME"]
    # Fresh apheresis counts from the end of collection, not from pick-up.
    slow = transit_findings(
        FRESH,
        departed_at=T0,
        arrived_at=T0 + dt.timedelta(hours=10),
        collected_at=T0 - dt.timedelta(hours=40),
        fresh=True,
    )
    assert [f.rule for f in slow] == ["FRESH-TIME-LIMIT"]
    assert "50.0 h after collection" in slow[0].message


def test_a_hand_reading_at_receipt_is_held_to_the_same_limits() -> None:
    assert reading_at_handoff(FRESH, 5.0) == []
    assert [f.rule for f in reading_at_handoff(FRESH, 12.0)] == ["TEMP-AT-RECEIPT"]
    assert [f.rule for f in reading_at_handoff(FROZEN, -100.0)] == ["TEMP-AT-RECEIPT"]
