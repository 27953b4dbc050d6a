"""Refusals of the audit domain: unknown records and record types read as not found."""

from cartflow.errors import NotFound


class UnknownRecordType(NotFound):
    code = "AUDIT-UNKNOWN-RECORD-TYPE"


class UnknownRecord(NotFound):
    code = "AUDIT-UNKNOWN-RECORD"
