"""Refusals raised by the identity package (ISBT 128 identifiers and scans).

Each class has a stable `code` so the API, the CLI and the audit trail can name what was wrong. A
malformed identifier or scan is bad input (422); running out of sequence numbers is a conflict with
the state of the numbering (409). A scan that parses but does not match the expected container is
not an exception: `cartflow.identity.scan.verify_scan` returns a decision naming the failed rule.
"""

from __future__ import annotations

from cartflow.errors import Conflict, InvalidInput


class MalformedIdentifier(InvalidInput):
    """A DIN, chain of identity identifier, FIN or product code breaks the ISBT 128 layout."""

    code = "IDENTITY-MALFORMED"


class MalformedScan(InvalidInput):
    """The raw string from a barcode scanner (or typed at the keyboard) cannot be read."""

    code = "SCAN-MALFORMED"


class SequenceExhausted(Conflict):
    """All 999,999 sequence numbers of a FIN and year are used (ST-001 §2.4.1)."""

    code = "IDENTITY-SEQUENCE-EXHAUSTED"
