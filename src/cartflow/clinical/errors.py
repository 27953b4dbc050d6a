"""Clinical refusals. A refused rule is a 409 whose `code` names the rule (e.g. `LD-NOT-RELEASED`,
`BEDSIDE-BAG-MISMATCH`, `TOCI-TOTAL`); unknown or out-of-scope records are 404."""

from __future__ import annotations

from cartflow.episodes.workflow import Denied
from cartflow.errors import Conflict, NotFound


class ClinicalRuleRefused(Conflict):
    """A clinical rule refused the step; nothing was written."""

    code = "CLINICAL-RULE"

    @classmethod
    def from_denied(cls, denied: Denied, *, field: str | None = None) -> ClinicalRuleRefused:
        return cls(f"{denied.code}: {denied.message}", code=denied.code, field=field)


class BedsideCheckRefused(ClinicalRuleRefused):
    """A hard stop at the bedside: the bag or the wristband does not match, or one person tried
    to be both checkers. Nothing is recorded and nothing may be thawed."""

    code = "BEDSIDE-REFUSED"


class ClinicalRecordNotFound(NotFound):
    code = "CLINICAL-RECORD-NOT-FOUND"
