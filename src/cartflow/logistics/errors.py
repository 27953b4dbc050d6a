"""Refusals of the custody and cold-chain domain, each with a stable code.

A scan that does not match is *not* raised: the hand-off service returns it (with the deviation it
opened) so the deviation is committed with the request. What is raised here are refusals that
write nothing: the wrong state, a missing second person, an unknown record, a malformed file.
"""

from __future__ import annotations

from cartflow.errors import Conflict, InvalidInput, NotFound
from cartflow.i18n import Message, _


class ContainerNotFound(NotFound):
    code = "CONTAINER-NOT-FOUND"


class ShipmentNotFound(NotFound):
    code = "SHIPMENT-NOT-FOUND"


class QuarantineNotFound(NotFound):
    code = "QUARANTINE-NOT-FOUND"


class DeviationNotFound(NotFound):
    code = "DEVIATION-NOT-FOUND"


class PlaceNotFound(NotFound):
    code = "PLACE-NOT-FOUND"


class StepNotNow(Conflict):
    """The episode is not at a point of the path where this hand-off happens."""

    code = "CUSTODY-EPISODE-STATE"


class SecondPersonRequired(Conflict):
    code = "CUSTODY-TWO-PERSON"


class SamePerson(Conflict):
    """A two-person step confirmed by the person who scanned: one person twice is one person."""

    code = "CUSTODY-SAME-PERSON"


class NoShipment(Conflict):
    code = "CUSTODY-NO-SHIPMENT"


class ShipmentState(Conflict):
    code = "SHIPMENT-STATE"


class ContainerState(Conflict):
    code = "CONTAINER-STATE"


class QuarantineDecided(Conflict):
    code = "QUARANTINE-DECIDED"


class DeviationClosed(Conflict):
    code = "DEVIATION-CLOSED"


class DuplicateTemperatureFile(Conflict):
    code = "TEMPERATURE-FILE-DUPLICATE"


class MalformedTemperatureFile(InvalidInput):
    """A data logger file with a line we cannot read; the whole file is refused."""

    code = "TEMPERATURE-FILE-MALFORMED"

    def __init__(self, message: str | Message, *, line: int | None = None) -> None:
        super().__init__(
            message if line is None else _("line {line}: {reason}", line=line, reason=message),
            field="file",
        )
        self.line = line
