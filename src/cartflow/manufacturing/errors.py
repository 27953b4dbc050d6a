"""Manufacturing refusals. A rule that refuses a step is a 409 whose `code` names the rule (the
codes are listed in docs/manufacturing.md); an unknown or out-of-scope batch is a 404."""

from cartflow.errors import Conflict, NotFound


class BatchNotFound(NotFound):
    code = "BATCH-NOT-FOUND"


class QcResultNotFound(NotFound):
    code = "QC-RESULT-NOT-FOUND"


class ManufacturingRefused(Conflict):
    """A manufacturing, QC or disposition rule refused the step; `code` names the rule."""

    code = "MANUFACTURING-REFUSED"
