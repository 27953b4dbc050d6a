"""Booking refusals (409, each code names the rule)."""

from cartflow.errors import Conflict


class NoChairFree(Conflict):
    code = "BOOK-NO-CHAIR"


class DeviceTaken(Conflict):
    code = "BOOK-DEVICE-TAKEN"


class BookingWindow(Conflict):
    code = "BOOK-WINDOW"
