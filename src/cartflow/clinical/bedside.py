"""The bedside identity check: the product bag and the patient's wristband against the episode.

Product bag: its label carries the episode's chain of identity identifier as ISBT 128 Data
Structure 040 (`&/CH...`), alone or with other structures (DIN, product code, expiry) in one read,
or typed as the eye-readable identifier and its check character. It is read with
`cartflow.identity.scan.parse_scan` and judged with `verify_scan`: the COI must be this episode's,
the product code (if on the read) this product's, and the product must not be expired. A DIN on
the read is not matched against a container record here (custody records are the logistics
domain's); its Type 3 check flags still are.

Wristband (cartflow's own layout, not an ISBT 128 structure, because ST-001 Data Structure 025
"Patient Identification Number" is not read at a hand-off by the identity module):

    WB:<pseudonym>/<chain of identity>

where `<pseudonym>` is the patient's pseudonymous id (e.g. `P-7K3MXQ2A`) and `<chain of identity>`
is Data Structure 040 as on the bag (`&/CHA999926000123`) or, typed when the band will not scan,
the eye-readable identifier and its check character (`CH A9999 26 000123 K`). Example:
`WB:P-7K3MXQ2A/&/CHA999926000123`. The band therefore ties the patient to the episode twice: by
pseudonym (printed for reading aloud) and by the chain of identity (scanned).

Any refusal is a hard stop: nothing is infused until a check passes with two different people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from cartflow.clinical.errors import denied
from cartflow.episodes.workflow import ALLOWED, Decision
from cartflow.i18n import _
from cartflow.identity.errors import MalformedIdentifier, MalformedScan
from cartflow.identity.isbt128 import ChainOfIdentityId, ProductCode
from cartflow.identity.scan import ExpectedContainer, Scan, parse_scan, verify_scan

WRISTBAND_PREFIX = "WB:"


def wristband_data(*, pseudonym: str, coi: str) -> str:
    """What the wristband's bar code holds for this patient and episode."""
    return f"{WRISTBAND_PREFIX}{pseudonym}/{ChainOfIdentityId.parse(coi).barcode_data()}"


def parse_wristband(raw: str) -> tuple[str, Scan]:
    """Split a wristband read into the pseudonym and the parsed chain of identity part.

    Raises `MalformedScan` (422) when the read is not a wristband at all.
    """
    text = raw.strip()
    if not text.startswith(WRISTBAND_PREFIX):
        raise MalformedScan(
            _(
                "not a wristband read: it must start with {prefix!r} (e.g. {example})",
                prefix=WRISTBAND_PREFIX,
                example="WB:P-7K3MXQ2A/&/CHA999926000123",
            ),
            field="wristband_scan",
        )
    pseudonym, slash, coi_part = text.removeprefix(WRISTBAND_PREFIX).partition("/")
    if not slash or not pseudonym or not coi_part:
        raise MalformedScan(
            _("a wristband read is WB:<pseudonym>/<chain of identity>"), field="wristband_scan"
        )
    scan = parse_scan(coi_part)
    if scan.coi is None:
        raise MalformedScan(
            _("the wristband's second part must be the chain of identity identifier"),
            field="wristband_scan",
        )
    return pseudonym, scan


def _product_code(code: str) -> ProductCode | None:
    try:
        return ProductCode.parse(code)
    except MalformedIdentifier:
        return None  # a product without a licensed code is matched by COI alone


def check_bag(
    raw: str, *, coi: str, isbt_product_code: str, now: dt.datetime
) -> tuple[Scan, Decision]:
    """Read the bag's label and decide; a read without a chain of identity is refused."""
    scan = parse_scan(raw)
    if scan.coi is None:
        return scan, denied(
            "BEDSIDE-BAG-NO-COI",
            _("the bag read holds no chain of identity identifier; scan the COI bar code"),
        )
    # The DIN is taken as read (its check flags are still verified): matching it to a container
    # record belongs to custody, and the COI is what ties the bag to this patient.
    expected = ExpectedContainer(
        coi=ChainOfIdentityId.parse(coi),
        din=scan.din,
        product_code=_product_code(isbt_product_code),
    )
    decision = verify_scan(expected, scan, now=now)
    if not decision.accepted:
        return scan, denied(
            "BEDSIDE-BAG-MISMATCH",
            _("{rule}: {reason}; do not thaw", rule=decision.rule, reason=decision.message),
        )
    return scan, ALLOWED


def check_wristband(
    raw: str, *, pseudonym: str, coi: str, now: dt.datetime
) -> tuple[Scan, Decision]:
    """The wristband must name this patient and this episode's chain of identity."""
    read_pseudonym, scan = parse_wristband(raw)
    if read_pseudonym != pseudonym:
        return scan, denied(
            "BEDSIDE-WRISTBAND-MISMATCH",
            _(
                "the wristband names patient {read}, not {expected}; do not thaw",
                read=read_pseudonym,
                expected=pseudonym,
            ),
        )
    decision = verify_scan(
        ExpectedContainer(coi=ChainOfIdentityId.parse(coi)), replace(scan, expiry=None), now=now
    )
    if not decision.accepted:
        return scan, denied(
            "BEDSIDE-WRISTBAND-MISMATCH",
            _("{rule}: {reason}; do not thaw", rule=decision.rule, reason=decision.message),
        )
    return scan, ALLOWED


def check_second_person(first_scanner_id: object, second_scanner_id: object) -> Decision:
    """Two different people scan: the first scanner cannot also be the second."""
    if first_scanner_id == second_scanner_id:
        return denied(
            "BEDSIDE-SAME-PERSON",
            _("the second check must be made by a different person than the first"),
        )
    return ALLOWED
