"""ISBT 128 identifiers: check character, FIN, DIN, chain of identity identifier and product code.

Everything here is a pure function or a frozen dataclass; nothing touches the database.

Source: ICCBBA *ISBT 128 Standard Technical Specification* ST-001 v6.2.2 (April 2023):
- §2.4.1 Donation Identification Number, Data Structure 001 `=αppppyynnnnnnff`; Table 3 flags.
- §2.4.3 Product Code, Data Structure 003 `=<αooootds`; Table 7 [RT008] collection types.
- §2.4.40 Chain of Identity Identifier, Data Structure 040 `&/CHαppppyynnnnnn`.
- §7.5 keyboard entry check character K: ISO/IEC 7064 modulo 37-2 over the data content string, for
  Data Structure 001 over the 13-character DIN only (flags excluded); Table 30 makes K required for
  001 and 040. Appendix A: the algorithm, Table 35 [RT035] and the worked example
  G1234 17 654321 -> A; A.2: Type 3 flag characters are 60 + the checksum.

Invariants: every identifier object is valid by construction (`__post_init__` checks the layout), so
code holding a `Din` or `ChainOfIdentityId` never re-validates. K is never part of the barcode data;
it is printed boxed beside the eye-readable text (§7.5.1.1).

K itself comes from python-stdnum (`stdnum.iso7064.mod_37_2`), whose default alphabet is Table 35's
(`0-9 A-Z *`, values 0-36; the tests check it). The field grammar is written by hand because no
maintained Python library parses ISBT 128 structures.

Chain of identity K: §7.5 defines K over the data content string; for Data Structure 040 that is the
full 15 characters including the literal `CH` (only the DIN excludes part of its content). ST-028 is
not public; confirm this against it before a licensed deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from stdnum.iso7064 import mod_37_2

from cartflow.i18n import Message, _
from cartflow.identity.errors import MalformedIdentifier, SequenceExhausted

ISO7064_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
"""ST-001 Table 35 [RT035]: a character's check value is its index in this string."""

MAX_SEQUENCE: Final = 999_999
"""Six-digit sequence numbers within a nominal year and FIN (ST-001 §2.4.1)."""

_DIGITS: Final = "0123456789"
_UPPER: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER: Final = "abcdefghijklmnopqrstuvwxyz"
_UPPER_ALNUM: Final = _UPPER + _DIGITS
# §2.4.1 and §2.4.40: the FIN's first character is {A-N, P-Z, 1-9}, its next two {A-N, P-Z, 0-9}.
_FIN_FIRST: Final = _UPPER.replace("O", "") + "123456789"
_FIN_SECOND: Final = _UPPER.replace("O", "") + _DIGITS
# §2.4.1 element table: ff is {0-9}, {A-H; J-N; P; R-Y}.
_FLAG_CHARS: Final = _DIGITS + "ABCDEFGHJKLMNPRSTUVWXY"

COLLECTION_TYPES: Final[dict[str, str]] = {
    "0": "Not specified",
    "V": "Volunteer homologous (allogeneic)",
    "R": "Volunteer research (not for human application)",
    "S": "Volunteer source",
    "T": "Volunteer therapeutic",
    "P": "Paid homologous (allogeneic)",
    "r": "Paid research (not for human application)",
    "s": "Paid source",
    "A": "Autologous, eligible for crossover",
    "1": "For autologous use only",
    "X": "For autologous use only, biohazard",
    "D": "Volunteer directed, eligible for crossover",
    "d": "Paid directed, eligible for crossover",
    "2": "For directed recipient use only",
    "L": "For directed recipient use only, limited exposure",
    "E": "Medical exception, for specified recipient only (allogeneic)",
    "Q": "See Special Testing bar code",
    "3": "For directed recipient use only, biohazard",
    "4": "Designated",
    "5": "Dedicated",
    "6": "Designated, biohazard",
    "F": "Family reserved",
    "C": "Replacement",
    "7": "For allogeneic use",
    "8": "For autologous use, contains allogeneic material",
    "B": "Directed/Dedicated/Designated collection use only",
    "H": "Directed/Dedicated/Designated collection, biohazardous",
    "J": "Directed/Dedicated/Designated collection, eligible for crossover",
    "G": "For emergency use only",
}
"""ST-001 Table 7 [RT008]: the collection type `t` (6th character) of a product code."""


def compact(text: str) -> str:
    """Drop the spaces people and labels put between the parts of an identifier."""
    return "".join(text.split())


# The parts of an identifier a refusal names; `field` keeps the English key for machines.
_NAMES: Final[dict[str, Message]] = {
    "DIN FIN": _("the FIN of the DIN"),
    "DIN year": _("the year of the DIN"),
    "DIN flags": _("DIN flags"),
    "COI FIN": _("the FIN of the COI"),
    "COI year": _("the year of the COI"),
    "value": _("value"),
    "product code": _("product code"),
}


def _name(what: str) -> str | Message:
    return _NAMES.get(what, what)


def _field(what: str, value: str, start: int, end: int, allowed: str, rule: str | Message) -> None:
    for index in range(start, end):
        char = value[index]
        if char not in allowed:
            if char in _LOWER:
                message = _(
                    "{what} {value!r}: character {position} {char!r} {rule} "
                    "(ISBT 128 identifiers are upper case)",
                    what=_name(what),
                    value=value,
                    position=index + 1,
                    char=char,
                    rule=rule,
                )
            else:
                message = _(
                    "{what} {value!r}: character {position} {char!r} {rule}",
                    what=_name(what),
                    value=value,
                    position=index + 1,
                    char=char,
                    rule=rule,
                )
            raise MalformedIdentifier(message, field=what)


def _length(what: str, value: str, expected: int, layout: str | Message) -> None:
    if len(value) != expected:
        raise MalformedIdentifier(
            _(
                "{what} {value!r} has {length} characters; expected {expected} ({layout})",
                what=_name(what),
                value=value,
                length=len(value),
                expected=expected,
                layout=layout,
            ),
            field=what,
        )


def _fin_fields(what: str, value: str, offset: int) -> None:
    _field(what, value, offset, offset + 1, _FIN_FIRST, _("must be A-N, P-Z or 1-9 (FIN, first)"))
    _field(what, value, offset + 1, offset + 3, _FIN_SECOND, _("must be A-N, P-Z or 0-9 (FIN)"))
    _field(what, value, offset + 3, offset + 5, _DIGITS, _("must be a digit (FIN, last two)"))


def validate_fin(text: str) -> str:
    """Return the 5-character Facility Identification Number, or refuse it (ST-001 §2.4.1).

    FINs are assigned by ICCBBA; this checks the layout only, not that the FIN is registered.
    """
    fin = compact(text)
    _length("FIN", fin, 5, _("e.g. A9999"))
    _fin_fields("FIN", fin, 0)
    return fin


def check_character(data: str) -> str:
    """The keyboard entry check character K of a data content string (ST-001 §7.5, Appendix A).

    For a DIN pass the 13 characters without flags; for a chain of identity identifier all 15.
    """
    if not data:
        raise MalformedIdentifier(_("cannot compute a check character of an empty value"))
    _field("value", data, 0, len(data), _UPPER_ALNUM, _("is not 0-9 or A-Z"))
    return str(mod_37_2.calc_check_digit(data))


def checksum_value(data: str) -> int:
    """The ISO/IEC 7064 mod 37-2 checksum (0-36) of which K is the Table 35 character."""
    return ISO7064_ALPHABET.index(check_character(data))


def _validate_keyed(keyed: str) -> str:
    if len(keyed) != 1 or keyed not in ISO7064_ALPHABET:
        raise MalformedIdentifier(
            _("check character {keyed!r} must be one character of 0-9, A-Z or *", keyed=keyed),
            field="check_character",
        )
    return keyed


def _year_digits(year: int) -> str:
    if not 1000 <= year <= 9999:
        raise MalformedIdentifier(_("year {year} must have four digits", year=year), field="year")
    return f"{year % 100:02d}"


def _sequence_digits(sequence: int) -> str:
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise MalformedIdentifier(
            _(
                "sequence number {sequence} must be 1 to {maximum}",
                sequence=sequence,
                maximum=MAX_SEQUENCE,
            ),
            field="sequence",
        )
    return f"{sequence:06d}"


def _after(last_sequence: int, *, fin: str, year: int) -> int:
    if not 0 <= last_sequence <= MAX_SEQUENCE:
        raise MalformedIdentifier(
            _(
                "last sequence number {last} must be 0 (none used) to {maximum}",
                last=last_sequence,
                maximum=MAX_SEQUENCE,
            ),
            field="last_sequence",
        )
    if last_sequence == MAX_SEQUENCE:
        raise SequenceExhausted(
            _(
                "FIN {fin} has used all {maximum} sequence numbers of year {year}",
                fin=fin,
                maximum=MAX_SEQUENCE,
                year=year,
            )
        )
    return last_sequence + 1


@dataclass(frozen=True, slots=True)
class Din:
    """A 13-character Donation Identification Number `αppppyynnnnnn` (ST-001 §2.4.1).

    Unique for 100 years; identifies one collection or one product pool. Flags are not part of it.
    """

    fin: str
    year: str
    sequence: str

    def __post_init__(self) -> None:
        value = self.fin + self.year + self.sequence
        _length("DIN", value, 13, _("FIN 5 + year 2 + sequence 6"))
        _length("DIN FIN", self.fin, 5, _("e.g. A9999"))
        _length("DIN year", self.year, 2, _("last two digits of the nominal year"))
        _fin_fields("DIN", value, 0)
        _field("DIN", value, 5, 7, _DIGITS, _("must be a digit (year)"))
        _field("DIN", value, 7, 13, _DIGITS, _("must be a digit (sequence number)"))

    @classmethod
    def parse(cls, text: str) -> Din:
        """Read `A9999 21 123456` or `A999921123456` (spaces ignored, no check character)."""
        value = compact(text)
        _length("DIN", value, 13, _("FIN 5 + year 2 + sequence 6, e.g. A9999 21 123456"))
        return cls(value[:5], value[5:7], value[7:])

    @property
    def value(self) -> str:
        return self.fin + self.year + self.sequence

    @property
    def check_character(self) -> str:
        return check_character(self.value)

    @property
    def type3_flags(self) -> str:
        """Flags 60-96 that carry the checksum in the barcode (ST-001 App. A.2); never printed."""
        return str(60 + checksum_value(self.value))

    @property
    def eye_readable(self) -> str:
        """`A9999 21 123456`: the text printed under the bar code, K boxed beside it (§7.4.1)."""
        return f"{self.fin} {self.year} {self.sequence}"

    def barcode_data(self, flags: str = "00") -> str:
        """The Data Structure 001 string `=αppppyynnnnnnff` a Code 128 symbol carries."""
        validate_flags(flags)
        return f"={self.value}{flags}"

    def __str__(self) -> str:
        return self.value


def validate_flags(flags: str) -> str:
    """Two flag characters of a DIN (ST-001 §2.4.1, Table 3)."""
    _length("DIN flags", flags, 2, _("00 when unused"))
    _field("DIN flags", flags, 0, 2, _FLAG_CHARS, _("is not a flag character"))
    return flags


def flags_are_printed(flags: str) -> bool:
    """Type 1 and 2 flags are printed (rotated); 00 need not be and Type 3 (60-96) must not be."""
    validate_flags(flags)
    if flags == "00":
        return False
    return not (flags.isdigit() and 60 <= int(flags) <= 96)


@dataclass(frozen=True, slots=True)
class ChainOfIdentityId:
    """An ISBT 128 Chain of Identity identifier `CHαppppyynnnnnn` (ST-001 §2.4.40, ST-028).

    One per patient therapy event, shared by all its donations; the DIN on each bag stays as it is.
    The sequence is six characters of A-Z and 0-9.
    """

    fin: str
    year: str
    sequence: str

    def __post_init__(self) -> None:
        value = self.value
        _length("COI", value, 15, _("CH + FIN 5 + year 2 + sequence 6"))
        _length("COI FIN", self.fin, 5, _("e.g. A9999"))
        _length("COI year", self.year, 2, _("last two digits of the nominal year of issue"))
        _fin_fields("COI", value, 2)
        _field("COI", value, 7, 9, _DIGITS, _("must be a digit (year)"))
        _field("COI", value, 9, 15, _UPPER_ALNUM, _("must be A-Z or 0-9 (sequence)"))

    @classmethod
    def parse(cls, text: str) -> ChainOfIdentityId:
        """Read `CH A9999 23 ABC123` or `CHA999923ABC123` (spaces ignored, no check character)."""
        value = compact(text)
        _length("COI", value, 15, _("CH + FIN 5 + year 2 + sequence 6, e.g. CHA999923ABC123"))
        if not value.startswith("CH"):
            raise MalformedIdentifier(
                _("COI {value!r} must start with the literal CH (ST-001 §2.4.40)", value=value),
                field="COI",
            )
        return cls(value[2:7], value[7:9], value[9:])

    @property
    def value(self) -> str:
        return f"CH{self.fin}{self.year}{self.sequence}"

    @property
    def check_character(self) -> str:
        return check_character(self.value)

    @property
    def eye_readable(self) -> str:
        """`CH A9999 23 ABC123`, grouped like the DIN; K is printed boxed beside it."""
        return f"CH {self.fin} {self.year} {self.sequence}"

    def barcode_data(self) -> str:
        """The Data Structure 040 string `&/CHαppppyynnnnnn`."""
        return f"&/{self.value}"

    def __str__(self) -> str:
        return self.value


Identifier = Din | ChainOfIdentityId


def parse_identifier(text: str) -> Identifier:
    """A DIN (13 characters) or a chain of identity identifier (15, starting CH); spaces ignored."""
    value = compact(text)
    if len(value) == 13:
        return Din.parse(value)
    if len(value) == 15 and value.startswith("CH"):
        return ChainOfIdentityId.parse(value)
    raise MalformedIdentifier(
        _(
            "{value!r} has {length} characters; expected a 13-character DIN "
            "(e.g. A9999 21 123456) or a 15-character chain of identity identifier "
            "(e.g. CHA999923ABC123)",
            value=value,
            length=len(value),
        ),
        field="identifier",
    )


def parse_keyed(text: str) -> tuple[Identifier, str]:
    """Split typed eye-readable text, identifier then K (`A9999 21 123456 3`), spaces ignored.

    Does not judge K: compare it with the identifier's `check_character`.
    """
    value = compact(text)
    if len(value) in (14, 16):
        return parse_identifier(value[:-1]), _validate_keyed(value[-1])
    raise MalformedIdentifier(
        _(
            "{value!r} has {length} characters; expected a DIN and its check character "
            "(14, e.g. A9999 21 123456 3) or a chain of identity identifier and its check "
            "character (16)",
            value=value,
            length=len(value),
        ),
        field="identifier",
    )


def verify_keyed(text: str) -> bool:
    """True when the typed check character matches the typed identifier (ST-001 §7.5)."""
    identifier, keyed = parse_keyed(text)
    return identifier.check_character == keyed


@dataclass(frozen=True, slots=True)
class ProductCode:
    """An 8-character ISBT 128 Product Code `αooootds` (ST-001 §2.4.3).

    `αoooo` is the Product Description Code (ICCBBA's licensed database says what it means; `S`
    codes are cellular therapy); for α in E, F, H, S, P, X0 and Y, `t` is the collection type
    (Table 7) and `ds` the division code, `d` upper case and `s` lower case.
    """

    value: str

    def __post_init__(self) -> None:
        value = self.value
        what = "product code"
        _length(what, value, 8, _("product description code 5 + tds 3, e.g. S1180100"))
        _field(what, value, 0, 1, _UPPER, _("must be A-Z (product category)"))
        _field(what, value, 1, 5, _UPPER_ALNUM, _("must be A-Z or 0-9"))
        _field(what, value, 5, 6, _UPPER_ALNUM + _LOWER, _("must be a letter or digit"))
        _field(what, value, 6, 7, _UPPER_ALNUM, _("must be A-Z or 0-9 (division)"))
        _field(what, value, 7, 8, _LOWER + _DIGITS, _("must be a-z or 0-9 (division)"))
        if value[0] in "MNRTVW":
            _field(what, value, 5, 8, _DIGITS, _("must be a digit (three-digit division)"))
        if value[0] == "X" and value[1] != "0" and value[5:] != "000":
            raise MalformedIdentifier(
                _("product code {value!r}: X1-X9 codes end in 000", value=value), field=what
            )

    @classmethod
    def parse(cls, text: str, *, cellular_therapy: bool = False) -> ProductCode:
        """Read a product code (spaces ignored); `cellular_therapy` demands an `S` code."""
        code = cls(compact(text))
        if cellular_therapy and not code.is_cellular_therapy:
            raise MalformedIdentifier(
                _(
                    "product code {value!r} is not a cellular therapy code (those start with S)",
                    value=code.value,
                ),
                field="product code",
            )
        return code

    @property
    def description_code(self) -> str:
        return self.value[:5]

    @property
    def collection_type(self) -> str:
        return self.value[5]

    @property
    def division(self) -> str:
        return self.value[6:]

    @property
    def is_cellular_therapy(self) -> bool:
        return self.value[0] == "S"

    def barcode_data(self) -> str:
        """The Data Structure 003 string `=<αooootds`."""
        return f"=<{self.value}"

    def __str__(self) -> str:
        return self.value


def make_din(*, fin: str, year: int, sequence: int) -> Din:
    """The DIN with this sequence number (1-999,999) for a FIN and four-digit nominal year."""
    fin = validate_fin(fin)
    return Din(fin, _year_digits(year), _sequence_digits(sequence))


def make_coi(*, fin: str, year: int, sequence: int) -> ChainOfIdentityId:
    """The chain of identity identifier with this sequence number (1-999,999).

    ST-001 allows A-Z in the sequence; we issue digits only, zero-padded, so nobody reading a
    label aloud confuses O with 0 or I with 1. That still leaves 999,999 a year per FIN.
    """
    fin = validate_fin(fin)
    return ChainOfIdentityId(fin, _year_digits(year), _sequence_digits(sequence))


def next_din(*, fin: str, year: int, last_sequence: int) -> Din:
    """The DIN after `last_sequence` (0 when none is used yet) for a FIN and nominal year.

    The caller keeps the counter per (FIN, year) and starts again at 0 in a new year.
    """
    return make_din(fin=fin, year=year, sequence=_after(last_sequence, fin=fin, year=year))


def next_coi(*, fin: str, year: int, last_sequence: int) -> ChainOfIdentityId:
    """The chain of identity identifier after `last_sequence` (0 when none is used yet)."""
    return make_coi(fin=fin, year=year, sequence=_after(last_sequence, fin=fin, year=year))
