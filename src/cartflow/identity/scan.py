"""Reading what a barcode scanner types, and deciding whether it is the container we expect.

Two kinds of input reach a hand-off:
- a barcode read: one or more ISBT 128 data structures, each starting with its data identifier,
  concatenated with nothing between them (ST-001 §10.2) or wrapped in a compound message
  (Data Structure 023, §2.4.23, the usual Data Matrix content);
- keyboard entry: the eye-readable DIN or chain of identity identifier followed by the boxed
  check character K, typed when a label will not scan (§7.5).

`parse_scan` turns either into a `Scan` or raises `MalformedScan` saying exactly what is wrong.
`verify_scan` compares a `Scan` with the `ExpectedContainer` and returns a `ScanDecision` naming the
first rule that failed; any refusal is a hard stop for the hand-off.

Dates: ISBT 128 codes `cyyjjj` (century, year, day of year) and `cyyjjjhhmm` (§2.4.4-2.4.7).
ST-001 does not spell out `c`; ST-012 §6.2 shows `&>0183652359` for a product whose SEC expiry is
2018-12-31 and Figure 13 `0170091330` for 2017-01-09 13:30, so `c` counts centuries from 2000. The
time is the labelling site's wall-clock time, hence `label_timezone` on the expectation.

Written by hand because no maintained Python library parses ISBT 128 data structures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Final, Literal, TypeVar

from cartflow.i18n import Message, _
from cartflow.identity.errors import MalformedIdentifier, MalformedScan
from cartflow.identity.isbt128 import (
    ChainOfIdentityId,
    Din,
    ProductCode,
    checksum_value,
    parse_keyed,
    validate_flags,
)

# Data identifier -> (data structure number, name, content length); ST-001 Table 2 [RT003].
_READ: Final[dict[str, tuple[str, str, int]]] = {
    "=%": ("002", "Blood Groups", 4),
    "=<": ("003", "Product Code", 8),
    "=>": ("004", "Expiration Date", 6),
    "&>": ("005", "Expiration Date and Time", 10),
    "=*": ("006", "Collection Date", 6),
    "&*": ("007", "Collection Date and Time", 10),
    "=+": ("023", "Compound Message", 5),
    "&/": ("040", "Chain of Identity Identifier", 15),
}
# Structures a hand-off does not read: named so the refusal says what was scanned.
_NOT_READ: Final[dict[str, str]] = {
    "=}": "Production Date [008]",
    "&}": "Production Date and Time [009]",
    "&(": "Special Testing: General [010]",
    "=)": "Container Manufacturer and Catalog Number [017]",
    "&)": "Container Lot Number [018]",
    "=;": "Donor Identification Number [019]",
    "='": "Staff Member Identification Number [020]",
    "=-": "Manufacturer and Catalog Number [021]",
    "&-": "Lot Number [022]",
    "=#": "Patient Date of Birth [024]",
    "&#": "Patient Identification Number [025]",
    "=]": "Expiration Month and Year [026]",
    '&"': "Transfusion Transmitted Infection Marker [027]",
    "=$": "Product Consignment [028]",
    "=(": "Flexible Date and Time [031]",
    "=,": "Product Divisions [032]",
    "&+": "Processing Facility Information Code [033]",
    "=/": "Processor Product Identification Code [034]",
    "&,": "MPHO Lot Number or Supplemental Identification Number [035-037]",
    "&:": "Global Registration Identifier for Donors [039]",
}
_DIN_SECOND: Final = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class CodedDateTime:
    """A date, and a time for the `...hhmm` structures, as the label's local wall clock."""

    day: date
    time_of_day: time | None = None

    def expires_at(self, tz: tzinfo) -> datetime:
        """When an expiry stops being usable: at hh:mm, or at the end of a date-only expiry day."""
        if self.time_of_day is None:
            return datetime.combine(self.day + timedelta(days=1), time(0, 0), tzinfo=tz)
        return datetime.combine(self.day, self.time_of_day, tzinfo=tz)


def decode_date(content: str, *, what: str | Message | None = None) -> CodedDateTime:
    """Decode `cyyjjj` or `cyyjjjhhmm` (ST-001 §2.4.4-2.4.7)."""
    what = _("date") if what is None else what
    if len(content) not in (6, 10) or not content.isascii() or not content.isdigit():
        raise MalformedScan(
            _(
                "{what} {content!r} must be 6 or 10 digits (cyyjjj[hhmm])",
                what=what,
                content=content,
            )
        )
    year = 2000 + 100 * int(content[0]) + int(content[1:3])
    day_of_year = int(content[3:6])
    days_in_year = 366 if date(year, 12, 31).timetuple().tm_yday == 366 else 365
    if not 1 <= day_of_year <= days_in_year:
        raise MalformedScan(
            _(
                "{what} {content!r}: day {day} is not a day of {year}",
                what=what,
                content=content,
                day=day_of_year,
                year=year,
            )
        )
    day = date(year, 1, 1) + timedelta(days=day_of_year - 1)
    if len(content) == 6:
        return CodedDateTime(day)
    hour, minute = int(content[6:8]), int(content[8:10])
    if hour > 23 or minute > 59:
        raise MalformedScan(
            _(
                "{what} {content!r}: {time} is not a time of day",
                what=what,
                content=content,
                time=f"{hour:02d}:{minute:02d}",
            )
        )
    return CodedDateTime(day, time(hour, minute))


def encode_date(moment: date | datetime) -> str:
    """`cyyjjj` for a date, `cyyjjjhhmm` for a datetime (as its own wall clock, seconds dropped)."""
    day = moment.date() if isinstance(moment, datetime) else moment
    if day.year < 2000:
        raise ValueError("ISBT 128 dates start at 2000 (century digit 0)")
    coded = f"{(day.year - 2000) // 100}{day.year % 100:02d}{day.timetuple().tm_yday:03d}"
    if isinstance(moment, datetime):
        coded += f"{moment.hour:02d}{moment.minute:02d}"
    return coded


def expiry_barcode_data(expires_at: datetime, tz: tzinfo) -> str:
    """Data Structure 005 `&>cyyjjjhhmm` for an aware expiry, as wall-clock time in `tz`.

    Seconds are dropped, so the coded expiry is never later than the real one.
    """
    _require_aware(expires_at, "expires_at")
    return "&>" + encode_date(expires_at.astimezone(tz))


@dataclass(frozen=True, slots=True)
class Scan:
    """What one read at a hand-off said. `structures` lists data structure numbers in order."""

    raw: str
    entry: Literal["barcode", "keyboard"]
    din: Din | None = None
    din_flags: str | None = None
    product_code: ProductCode | None = None
    coi: ChainOfIdentityId | None = None
    expiry: CodedDateTime | None = None
    collected: CodedDateTime | None = None
    blood_groups: str | None = None
    single_european_code: str | None = None
    keyed_check_character: str | None = None
    structures: tuple[str, ...] = ()


def parse_scan(raw: str) -> Scan:
    """Read a scanner's string; raises `MalformedScan` naming the position and the problem."""
    text = raw.strip()
    if not text:
        raise MalformedScan(_("the scan is empty"))
    if text[0] in "=&":
        return _parse_barcode(text)
    try:
        identifier, keyed = parse_keyed(text)
    except MalformedIdentifier as error:
        raise MalformedScan(
            _(
                "not a barcode (those start with = or &) and not a typed identifier: {reason}",
                reason=error.args[0],
            )
        ) from error
    if isinstance(identifier, Din):
        return Scan(raw=text, entry="keyboard", din=identifier, keyed_check_character=keyed)
    return Scan(raw=text, entry="keyboard", coi=identifier, keyed_check_character=keyed)


def _parse_barcode(text: str) -> Scan:
    for position, char in enumerate(text, start=1):
        if not char.isascii() or not char.isprintable() or char.isspace():
            raise MalformedScan(
                _(
                    "character {position} {char!r} cannot be part of a barcode",
                    position=position,
                    char=char,
                )
            )
    found: dict[str, object] = {}
    where: dict[str, int] = {}
    order: list[str] = []
    declared: int | None = None
    index = 0
    while index < len(text):
        position = index + 1
        if text[index] not in "=&":
            raise MalformedScan(
                _(
                    "expected a data identifier (= or &) at character {position}, found {char!r}",
                    position=position,
                    char=text[index],
                )
            )
        identifier = text[index : index + 2]
        if len(identifier) < 2:
            raise MalformedScan(
                _(
                    "the scan ends in a lone {identifier!r} at character {position}",
                    identifier=identifier,
                    position=position,
                )
            )
        if identifier[0] == "=" and identifier[1] in _DIN_SECOND:
            number, name, start, length = "001", "Donation Identification Number", index + 1, 15
        elif identifier in _READ:
            number, name, length = _READ[identifier]
            start = index + 2
        elif text.startswith("&,4", index):
            number, name, start, length = "038", "Single European Code", index + 3, 40
        elif identifier in _NOT_READ:
            raise MalformedScan(
                _(
                    "{structure} at character {position} is not read at a hand-off",
                    structure=_NOT_READ[identifier],
                    position=position,
                )
            )
        else:
            raise MalformedScan(
                _(
                    "unknown data identifier {identifier!r} at character {position}",
                    identifier=identifier,
                    position=position,
                )
            )
        content = text[start : start + length]
        # Data structure names are ST-001's own and stay as the standard spells them.
        label = _(
            "{name} [{number}] at character {position}", name=name, number=number, position=position
        )
        if len(content) < length:
            raise MalformedScan(
                _(
                    "{label} is cut short: {length} characters expected after {identifier!r}, "
                    "found {found}",
                    label=label,
                    length=length,
                    identifier=identifier,
                    found=len(content),
                )
            )
        if number in found:
            raise MalformedScan(
                _(
                    "two {name} [{number}] structures in one scan "
                    "(characters {first} and {second})",
                    name=name,
                    number=number,
                    first=where[number],
                    second=position,
                )
            )
        if number == "023":
            if index != 0:
                raise MalformedScan(_("{label}: a compound message must come first", label=label))
            declared = _compound_count(content, label)
        else:
            found[number] = _decode(number, content, label)
            order.append(number)
        where[number] = position
        index = start + length
    if declared is not None and declared != len(order):
        raise MalformedScan(
            _(
                "the compound message announces {declared} data structures but {found} follow",
                declared=declared,
                found=len(order),
            )
        )
    din_part = found.get("001")
    din, flags = din_part if isinstance(din_part, tuple) else (None, None)
    return Scan(
        raw=text,
        entry="barcode",
        din=din,
        din_flags=flags,
        product_code=_typed(found.get("003"), ProductCode),
        coi=_typed(found.get("040"), ChainOfIdentityId),
        expiry=_typed(found.get("005") or found.get("004"), CodedDateTime),
        collected=_typed(found.get("007") or found.get("006"), CodedDateTime),
        blood_groups=_typed(found.get("002"), str),
        single_european_code=_typed(found.get("038"), str),
        structures=tuple(order),
    )


def _typed(value: object, kind: type[_T]) -> _T | None:
    return value if isinstance(value, kind) else None


def _compound_count(content: str, label: Message) -> int:
    if not content.isdigit():
        raise MalformedScan(
            _(
                "{label}: {content!r} must be 5 digits (count 2 + sequence 3)",
                label=label,
                content=content,
            )
        )
    if content[2:] != "000":
        # A specified sequence refers to ICCBBA table RT017, which we cannot check (§2.4.23).
        raise MalformedScan(
            _(
                "{label}: specified sequence {sequence} cannot be verified here; "
                "only undefined-sequence (000) compound messages are read",
                label=label,
                sequence=content[2:],
            )
        )
    return int(content[:2])


def _decode(number: str, content: str, label: Message) -> object:
    try:
        if number == "001":
            return Din.parse(content[:13]), validate_flags(content[13:])
        if number == "003":
            return ProductCode(content)
        if number == "040":
            return ChainOfIdentityId.parse(content)
        if number in ("002", "038"):
            if not content.isalnum():
                raise MalformedScan(
                    _(
                        "{label}: {content!r} must be letters and digits",
                        label=label,
                        content=content,
                    )
                )
            return content
        return decode_date(content, what=label)
    except MalformedIdentifier as error:
        raise MalformedScan(_("{label}: {reason}", label=label, reason=error.args[0])) from error


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ExpectedContainer:
    """What the system of record says the scanned container must be.

    `din` is None for a container that carries no DIN (a shipper); `product_code` and `expires_at`
    are None when the product has none configured. `label_timezone` is the zone whose wall-clock
    time the label's expiry bar code was printed in.
    """

    coi: ChainOfIdentityId
    din: Din | None = None
    product_code: ProductCode | None = None
    expires_at: datetime | None = None
    label_timezone: tzinfo = UTC

    def __post_init__(self) -> None:
        if self.expires_at is not None:
            _require_aware(self.expires_at, "expires_at")


class ScanRule(StrEnum):
    """The rule a refused scan broke; stable codes for the API, deviations and the audit trail."""

    CHECK_CHARACTER = "SCAN-CHECK-CHARACTER"
    NOT_IDENTIFIED = "SCAN-NOT-IDENTIFIED"
    WRONG_EPISODE = "SCAN-WRONG-EPISODE"
    WRONG_CONTAINER = "SCAN-WRONG-CONTAINER"
    PRODUCT_CODE = "SCAN-PRODUCT-CODE"
    EXPIRY_MISMATCH = "SCAN-EXPIRY-MISMATCH"
    EXPIRED = "SCAN-EXPIRED"


@dataclass(frozen=True, slots=True)
class ScanDecision:
    """Accepted, or refused with the rule that failed and a message a coordinator understands."""

    accepted: bool
    rule: ScanRule | None
    message: Message


SCAN_ACCEPTED: Final = ScanDecision(True, None, _("The scan matches the expected container"))


def _refuse(rule: ScanRule, message: Message) -> ScanDecision:
    return ScanDecision(False, rule, message)


def verify_scan(expected: ExpectedContainer, scanned: Scan, *, now: datetime) -> ScanDecision:
    """Check a scan against the expected container; the first failed rule refuses it.

    Rules, in order: the check character (typed K, or Type 3 flags in a DIN bar code) is right;
    the scan identifies a container (a COI or a DIN); the COI is this episode's; the DIN is this
    container's; the product code matches; the coded expiry matches the record; not expired.
    """
    _require_aware(now, "now")
    if (refusal := check_character_rule(scanned)) is not None:
        return refusal
    if scanned.coi is None and scanned.din is None:
        return _refuse(
            ScanRule.NOT_IDENTIFIED,
            _(
                "The scan has no chain of identity identifier and no DIN; "
                "scan the COI or DIN bar code"
            ),
        )
    if scanned.coi is not None and scanned.coi != expected.coi:
        return _refuse(
            ScanRule.WRONG_EPISODE,
            _(
                "COI {scanned} belongs to another episode; expected {expected}",
                scanned=scanned.coi.eye_readable,
                expected=expected.coi.eye_readable,
            ),
        )
    if scanned.din is not None and scanned.din != expected.din:
        wanted = expected.din.eye_readable if expected.din else _("a container without a DIN")
        return _refuse(
            ScanRule.WRONG_CONTAINER,
            _(
                "DIN {scanned} is not the expected container ({wanted})",
                scanned=scanned.din.eye_readable,
                wanted=wanted,
            ),
        )
    if (
        scanned.product_code is not None
        and expected.product_code is not None
        and scanned.product_code != expected.product_code
    ):
        return _refuse(
            ScanRule.PRODUCT_CODE,
            _(
                "product code {scanned} does not match the expected {expected}",
                scanned=str(scanned.product_code),
                expected=str(expected.product_code),
            ),
        )
    return _expiry_rules(expected, scanned, now)


def check_character_rule(scanned: Scan) -> ScanDecision | None:
    """The refusal when the typed K or the DIN bar code's Type 3 flags are wrong, else None.

    Judged before looking the container up: a mistyped identifier must be re-read, not reported
    as an unknown container.
    """
    identifier = scanned.din or scanned.coi
    keyed = scanned.keyed_check_character
    if keyed is not None and identifier is not None and identifier.check_character != keyed:
        return _refuse(
            ScanRule.CHECK_CHARACTER,
            _(
                "check character {keyed} does not match {identifier}; re-read the label",
                keyed=keyed,
                identifier=identifier.eye_readable,
            ),
        )
    din, flags = scanned.din, scanned.din_flags
    if din is None or flags is None or not flags.isdigit() or not 60 <= int(flags) <= 96:
        return None
    if int(flags) - 60 != checksum_value(din.value):
        return _refuse(
            ScanRule.CHECK_CHARACTER,
            _(
                "the DIN bar code's check flags {flags} do not match {din}",
                flags=flags,
                din=din.eye_readable,
            ),
        )
    return None


def _expiry_rules(expected: ExpectedContainer, scanned: Scan, now: datetime) -> ScanDecision:
    coded = scanned.expiry.expires_at(expected.label_timezone) if scanned.expiry else None
    record = expected.expires_at
    if scanned.expiry is not None and record is not None:
        printed = record.astimezone(expected.label_timezone).replace(second=0, microsecond=0)
        if scanned.expiry.time_of_day is None:
            matches = scanned.expiry.day == printed.date()
        else:
            matches = coded == printed
        if not matches:
            return _refuse(
                ScanRule.EXPIRY_MISMATCH,
                _(
                    "the label's expiry ({raw}) differs from the record's {printed}; "
                    "relabel before use",
                    raw=scanned.raw,
                    printed=f"{printed:%Y-%m-%d %H:%M}",
                ),
            )
    deadline = record if record is not None else coded
    if deadline is not None and now >= deadline:
        return _refuse(
            ScanRule.EXPIRED,
            _(
                "the product expired at {deadline} UTC",
                deadline=f"{deadline.astimezone(UTC):%Y-%m-%d %H:%M}",
            ),
        )
    return SCAN_ACCEPTED
