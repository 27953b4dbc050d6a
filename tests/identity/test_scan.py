"""Reading scanner strings (ST-001 §2.4, §10; ST-012 §6.2) and the hand-off scan decision."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartflow.identity.errors import MalformedScan
from cartflow.identity.isbt128 import ChainOfIdentityId, Din, ProductCode
from cartflow.identity.scan import (
    CodedDateTime,
    ExpectedContainer,
    ScanRule,
    decode_date,
    encode_date,
    expiry_barcode_data,
    parse_scan,
    verify_scan,
)

# ST-012 v1.4.0 §6.2, "Data Matrix symbol 1": a compound message of DIN, blood groups special
# message, product code, expiry date and time and the Single European Code.
ST012_SYMBOL_1 = (
    "=+05000=Z54991712345600=%T300=<T0416003&>0183652359&,4PL001499Z549917123456A00T041600320181231"
)
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_st012_compound_message() -> None:
    scan = parse_scan(ST012_SYMBOL_1)
    assert scan.entry == "barcode"
    assert scan.structures == ("001", "002", "003", "005", "038")
    assert scan.din == Din.parse("Z5499 17 123456")
    assert scan.din_flags == "00"
    assert scan.blood_groups == "T300"
    assert scan.product_code == ProductCode("T0416003")
    # The same symbol's SEC gives the expiry date 20181231; 2359 is the default time (§2.4.5).
    assert scan.expiry == CodedDateTime(date(2018, 12, 31), time(23, 59))
    assert scan.single_european_code == "PL001499Z549917123456A00T041600320181231"


def test_dates_follow_the_st012_examples() -> None:
    # ST-012 Figure 13: Collection Date and Time 0170091330 is printed as 2017-01-09 13:30.
    assert parse_scan("&*0170091330").collected == CodedDateTime(date(2017, 1, 9), time(13, 30))
    assert encode_date(datetime(2017, 1, 9, 13, 30, tzinfo=UTC)) == "0170091330"
    assert encode_date(date(2018, 12, 31)) == "018365"
    expiry = datetime(2018, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert expiry_barcode_data(expiry, UTC) == "&>0183652359"
    # A date-only expiry (Data Structure 004) lasts to the end of its day.
    assert decode_date("018365").expires_at(UTC) == datetime(2019, 1, 1, tzinfo=UTC)


# Hypothesis takes naive bounds and attaches the zone itself.
FIRST, LAST = datetime(2000, 1, 1), datetime(2999, 12, 31)  # noqa: DTZ001


@given(st.datetimes(min_value=FIRST, max_value=LAST, timezones=st.just(UTC)))
def test_date_coding_round_trips_to_the_minute(moment: datetime) -> None:
    coded = decode_date(encode_date(moment))
    assert coded.day == moment.date()
    assert coded.time_of_day == time(moment.hour, moment.minute)


def test_concatenated_pairs_and_chain_of_identity() -> None:
    # §10.5 commonly concatenated pairs: DIN + product code, product code + expiry.
    scan = parse_scan("=A99992112345600=<S12954A0")
    assert scan.din == Din.parse("A9999 21 123456")
    assert scan.product_code == ProductCode("S12954A0")
    assert parse_scan("=<S12954A0&>0253652359").expiry == CodedDateTime(
        date(2025, 12, 31), time(23, 59)
    )
    assert parse_scan("&/CHA999923ABC123\r\n").coi == ChainOfIdentityId.parse("CHA999923ABC123")


def test_keyboard_entry() -> None:
    scan = parse_scan("A9999 21 123456 3")
    assert (scan.entry, scan.din, scan.keyed_check_character) == (
        "keyboard",
        Din.parse("A999921123456"),
        "3",
    )
    assert parse_scan("CH A9999 23 ABC123 U").coi == ChainOfIdentityId.parse("CHA999923ABC123")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("   ", "the scan is empty"),
        ("=A9999211234", "Donation Identification Number [001] at character 1 is cut short"),
        ("=A99992112345600=A99992112345700", "two Donation Identification Number [001]"),
        (
            "=<S12954A0&/CHA999923abc123",
            "COI 'CHA999923abc123': character 10 'a' must be A-Z or 0-9",
        ),
        ("&qfoo", "unknown data identifier '&q' at character 1"),
        ("=O99992112345600", "unknown data identifier '=O'"),
        ("=]202512", "Expiration Month and Year [026] at character 1 is not read"),
        ("=A99992112345600 =<S12954A0", "character 17 ' ' cannot be part of a barcode"),
        ("=A99992112345600x", "expected a data identifier (= or &) at character 17"),
        ("=A99992112345600=", "ends in a lone '='"),
        ("=+03000=A99992112345600", "announces 3 data structures but 1 follow"),
        ("=+01035=A99992112345600", "specified sequence 035 cannot be verified"),
        ("=A99992112345600=+01000", "a compound message must come first"),
        ("&>0253662359", "day 366 is not a day of 2025"),
        ("&>0250012460", "24:60 is not a time of day"),
        ("=A999921123456II", "'I' is not a flag character"),
        ("A9999 21 123456", "not a barcode"),
    ],
)
def test_malformed_scans_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(MalformedScan) as caught:
        parse_scan(raw)
    assert message in caught.value.message


COI = ChainOfIdentityId.parse("CHA999925000001")
DIN = Din.parse("A9998 25 000042")
PRODUCT = ProductCode("S12951A0")
EXPIRES = datetime(2025, 3, 3, 22, 59, tzinfo=UTC)  # 23:59 on the label in Berlin (CET)
EXPECTED = ExpectedContainer(
    coi=COI, din=DIN, product_code=PRODUCT, expires_at=EXPIRES, label_timezone=BERLIN
)
LABEL = (
    f"{DIN.barcode_data()}{PRODUCT.barcode_data()}"
    f"{expiry_barcode_data(EXPIRES, BERLIN)}{COI.barcode_data()}"
)


def rule(raw: str, expected: ExpectedContainer = EXPECTED, now: datetime = NOW) -> ScanRule | None:
    decision = verify_scan(expected, parse_scan(raw), now=now)
    assert decision.accepted is (decision.rule is None)
    return decision.rule


def test_the_right_container_is_accepted() -> None:
    assert LABEL.endswith("&>0250622359&/CHA999925000001")
    assert rule(LABEL) is None
    assert rule(COI.barcode_data()) is None
    assert rule(DIN.barcode_data(DIN.type3_flags)) is None
    assert rule(f"{DIN.eye_readable} {DIN.check_character}") is None
    assert rule(f"{COI.eye_readable} {COI.check_character}") is None


def test_each_rule_refuses() -> None:
    other_coi = ChainOfIdentityId.parse("CHA999925000002")
    other_din = Din.parse("A9998 25 000043")
    wrong_k = "3" if DIN.check_character != "3" else "4"
    wrong_flags = str(60 + (int(DIN.type3_flags) - 59) % 37)
    assert rule(f"{DIN.eye_readable} {wrong_k}") is ScanRule.CHECK_CHARACTER
    assert rule(DIN.barcode_data(wrong_flags)) is ScanRule.CHECK_CHARACTER
    assert rule(PRODUCT.barcode_data()) is ScanRule.NOT_IDENTIFIED
    assert rule(other_coi.barcode_data() + DIN.barcode_data()) is ScanRule.WRONG_EPISODE
    assert rule(COI.barcode_data() + other_din.barcode_data()) is ScanRule.WRONG_CONTAINER
    shipper = ExpectedContainer(coi=COI)
    assert rule(DIN.barcode_data(), shipper) is ScanRule.WRONG_CONTAINER
    assert rule(COI.barcode_data() + "=<S12951B0") is ScanRule.PRODUCT_CODE
    assert rule(COI.barcode_data() + "&>0250622358") is ScanRule.EXPIRY_MISMATCH
    assert rule(COI.barcode_data() + "=>025062") is None
    assert rule(COI.barcode_data() + "=>025061") is ScanRule.EXPIRY_MISMATCH


def test_expiry_is_a_hard_stop_from_its_minute_on() -> None:
    assert rule(LABEL, now=EXPIRES - timedelta(minutes=1)) is None
    assert rule(LABEL, now=EXPIRES) is ScanRule.EXPIRED
    # Without an expiry on record, the label's own expiry still counts.
    no_record = ExpectedContainer(coi=COI, din=DIN, label_timezone=BERLIN)
    assert rule(LABEL, no_record, now=EXPIRES + timedelta(seconds=1)) is ScanRule.EXPIRED


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_scan(EXPECTED, parse_scan(LABEL), now=datetime(2025, 1, 1))  # noqa: DTZ001


digits = st.text(alphabet="0123456789", min_size=6, max_size=6)


@given(
    st.tuples(digits, digits).filter(lambda pair: pair[0] != pair[1]),
    st.sampled_from(["coi", "din", "both", "keyed-coi", "keyed-din"]),
)
def test_a_scan_of_another_episode_never_matches(pair: tuple[str, str], shape: str) -> None:
    mine, theirs = ((ChainOfIdentityId("A9999", "25", s), Din("A9998", "25", s)) for s in pair)
    expected = ExpectedContainer(coi=mine[0], din=mine[1])
    coi, din = theirs
    raw = {
        "coi": coi.barcode_data(),
        "din": din.barcode_data(din.type3_flags),
        "both": din.barcode_data() + coi.barcode_data(),
        "keyed-coi": f"{coi.eye_readable} {coi.check_character}",
        "keyed-din": f"{din.eye_readable} {din.check_character}",
    }[shape]
    decision = verify_scan(expected, parse_scan(raw), now=NOW)
    assert not decision.accepted
    assert decision.rule in (ScanRule.WRONG_EPISODE, ScanRule.WRONG_CONTAINER)
