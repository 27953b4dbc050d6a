"""ISBT 128 identifier layouts (ST-001 §2.4.1, §2.4.3, §2.4.40) and the sequence generator."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartflow.identity.errors import MalformedIdentifier, SequenceExhausted
from cartflow.identity.isbt128 import (
    MAX_SEQUENCE,
    ChainOfIdentityId,
    Din,
    ProductCode,
    flags_are_printed,
    make_coi,
    make_din,
    next_coi,
    next_din,
    parse_identifier,
    parse_keyed,
    validate_fin,
    verify_keyed,
)


def test_din_reads_printed_and_compact_forms() -> None:
    din = Din.parse("A9999 21 123456")
    assert (din.fin, din.year, din.sequence) == ("A9999", "21", "123456")
    assert Din.parse("A999921123456") == din
    assert din.eye_readable == "A9999 21 123456"
    assert str(din) == "A999921123456"


def test_din_barcode_carries_flags_but_never_the_check_character() -> None:
    din = Din.parse("G1234 17 654321")
    # ST-001 Appendix A.2: with Type 3 flags the Data Structure 001 content is G12341765432170.
    assert din.barcode_data(din.type3_flags) == "=G12341765432170"
    assert din.barcode_data() == "=G12341765432100"
    assert din.barcode_data("01") == "=G12341765432101"


@pytest.mark.parametrize(
    ("flags", "printed"),
    [("00", False), ("02", True), ("59", True), ("60", False), ("70", False), ("96", False)],
)
def test_which_flags_are_printed(flags: str, printed: bool) -> None:
    # ST-001 §7.4.1: 00 need not be printed, Type 1/2 are printed rotated, Type 3 never.
    assert flags_are_printed(flags) is printed


@pytest.mark.parametrize("flags", ["0", "OO", "II", "a1", "000"])
def test_malformed_flags_are_refused(flags: str) -> None:
    with pytest.raises(MalformedIdentifier):
        Din.parse("A9999 21 123456").barcode_data(flags)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A9999 21 12345", "has 12 characters; expected 13"),
        ("O9999 21 123456", "character 1 'O' must be A-N, P-Z or 1-9"),
        ("09999 21 123456", "character 1 '0'"),
        ("a9999 21 123456", "upper case"),
        ("A99X9 21 123456", "character 4 'X' must be a digit"),
        ("A9999 2X 123456", "character 7 'X' must be a digit (year)"),
        ("A9999 21 12345X", "character 13 'X' must be a digit (sequence number)"),
    ],
)
def test_malformed_dins_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(MalformedIdentifier, match=message.replace("(", r"\(").replace(")", r"\)")):
        Din.parse(text)


def test_fin_layout() -> None:
    assert validate_fin("A9999") == "A9999"
    # §2.4.1: alpha characters may come into positions 2-3, e.g. ABC12.
    assert validate_fin("ABC12") == "ABC12"
    for bad in ("O9999", "A999", "A99A9", "AO999", "a9999"):
        with pytest.raises(MalformedIdentifier):
            validate_fin(bad)


def test_chain_of_identity_identifier_layout() -> None:
    coi = ChainOfIdentityId.parse("CHA999923ABC123")
    assert (coi.fin, coi.year, coi.sequence) == ("A9999", "23", "ABC123")
    assert coi.barcode_data() == "&/CHA999923ABC123"
    assert coi.eye_readable == "CH A9999 23 ABC123"
    assert ChainOfIdentityId.parse(coi.eye_readable) == coi
    with pytest.raises(MalformedIdentifier, match="must start with the literal CH"):
        ChainOfIdentityId.parse("XXA999923ABC123")
    with pytest.raises(MalformedIdentifier, match="upper case"):
        ChainOfIdentityId.parse("CHA999923abc123")
    with pytest.raises(MalformedIdentifier, match="must be a digit"):
        ChainOfIdentityId.parse("CHA9999X3ABC123")


def test_product_codes() -> None:
    # ST-001 Figure 3: S12954A0 is PDC S1295, collection type 4, division A0.
    code = ProductCode.parse("S12954A0", cellular_therapy=True)
    assert (code.description_code, code.collection_type, code.division) == ("S1295", "4", "A0")
    assert code.is_cellular_therapy
    assert code.barcode_data() == "=<S12954A0"
    assert ProductCode.parse("S1180 1 0b").division == "0b"
    # ST-001 Figure 4: tissue codes end in a three-digit division.
    tissue = ProductCode.parse("T1295003")
    assert not tissue.is_cellular_therapy
    with pytest.raises(MalformedIdentifier, match="not a cellular therapy code"):
        ProductCode.parse("T1295003", cellular_therapy=True)
    for bad in ("S12954AB", "S1295", "s12954A0", "T12950A3", "S129-4A0"):
        with pytest.raises(MalformedIdentifier):
            ProductCode.parse(bad)


def test_identifier_and_keyed_entry() -> None:
    assert parse_identifier("A9999 21 123456") == Din.parse("A999921123456")
    assert parse_identifier("CH A9999 23 ABC123") == ChainOfIdentityId.parse("CHA999923ABC123")
    assert parse_keyed("A9999 21 123456 3") == (Din.parse("A999921123456"), "3")
    assert verify_keyed("A9999 21 123456 3")  # ST-001 Figure 2
    assert not verify_keyed("A9999 21 123456 4")
    with pytest.raises(MalformedIdentifier, match="has 15 characters; expected a 13-character DIN"):
        parse_identifier("A99992112345600")
    with pytest.raises(MalformedIdentifier, match="has 13 characters"):
        parse_keyed("A9999 21 123456")


def test_generator_starts_at_one_and_counts_up() -> None:
    first = next_din(fin="A9999", year=2025, last_sequence=0)
    assert first == Din("A9999", "25", "000001")
    assert next_din(fin="A9999", year=2025, last_sequence=41).sequence == "000042"
    assert next_coi(fin="A9998", year=2026, last_sequence=0).value == "CHA999826000001"
    assert make_din(fin="A9999", year=2025, sequence=7) == Din("A9999", "25", "000007")
    assert make_coi(fin="A9999", year=2025, sequence=7).sequence == "000007"


def test_generator_refuses_exhaustion_and_nonsense() -> None:
    with pytest.raises(SequenceExhausted):
        next_din(fin="A9999", year=2025, last_sequence=MAX_SEQUENCE)
    with pytest.raises(SequenceExhausted):
        next_coi(fin="A9999", year=2025, last_sequence=MAX_SEQUENCE)
    for bad in (-1, MAX_SEQUENCE + 1):
        with pytest.raises(MalformedIdentifier):
            next_din(fin="A9999", year=2025, last_sequence=bad)
    with pytest.raises(MalformedIdentifier):
        make_din(fin="A9999", year=2025, sequence=0)
    with pytest.raises(MalformedIdentifier):
        next_din(fin="O9999", year=2025, last_sequence=0)
    with pytest.raises(MalformedIdentifier):
        next_din(fin="A9999", year=25, last_sequence=0)


@given(st.integers(min_value=0, max_value=MAX_SEQUENCE - 1), st.integers(2000, 2099))
def test_generated_identifiers_follow_the_counter_and_verify(last: int, year: int) -> None:
    din = next_din(fin="A9999", year=year, last_sequence=last)
    coi = next_coi(fin="A9999", year=year, last_sequence=last)
    assert int(din.sequence) == int(coi.sequence) == last + 1
    assert din.year == coi.year == str(year)[2:]
    assert verify_keyed(din.value + din.check_character)
    assert verify_keyed(coi.eye_readable + " " + coi.check_character)
