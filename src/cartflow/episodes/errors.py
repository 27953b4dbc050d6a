"""Episode refusals: an illegal transition is a 409 whose code names the rule that failed."""

from cartflow.errors import Conflict, NotFound


class TransitionRefused(Conflict):
    code = "EPISODE-TRANSITION-REFUSED"


class UnknownTransition(NotFound):
    code = "EPISODE-UNKNOWN-TRANSITION"


class PatientNotFound(NotFound):
    code = "PATIENT-NOT-FOUND"


class EpisodeNotFound(NotFound):
    code = "EPISODE-NOT-FOUND"
