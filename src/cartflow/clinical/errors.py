"""Clinical refusals. A refused rule is a 409 whose `code` names the rule (e.g. `LD-NOT-RELEASED`,
`BEDSIDE-BAG-MISMATCH`, `TOCI-TOTAL`); unknown or out-of-scope records are 404.

Rule messages are lazy (`cartflow.i18n.Message`): the API, the pages and the CLI each show them in
their reader's language, while the code stays the same."""

from __future__ import annotations

from typing import cast

from cartflow.episodes.workflow import Denied
from cartflow.errors import Conflict, NotFound
from cartflow.i18n import Message


def denied(code: str, message: Message) -> Denied:
    """A guard's refusal whose message is translated when shown.

    `Denied.message` is typed `str` by the episode workflow; a `Message` turns into text wherever
    it is read (`str()`, formatting), so it stands in for one until that type is widened.
    """
    return Denied(code, cast(str, message))


class ClinicalRuleRefused(Conflict):
    """A clinical rule refused the step; nothing was written."""

    code = "CLINICAL-RULE"

    @classmethod
    def from_denied(cls, denied: Denied, *, field: str | None = None) -> ClinicalRuleRefused:
        # "CODE: message" reads the same in both languages; only the message is translated.
        text = Message("{code}: {message}", code=denied.code, message=denied.message)
        return cls(text, code=denied.code, field=field)


class BedsideCheckRefused(ClinicalRuleRefused):
    """A hard stop at the bedside: the bag or the wristband does not match, or one person tried
    to be both checkers. Nothing is recorded and nothing may be thawed."""

    code = "BEDSIDE-REFUSED"


class ClinicalRecordNotFound(NotFound):
    code = "CLINICAL-RECORD-NOT-FOUND"
