"""The names of the custody hand-off steps, for pages and for refusals."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from cartflow.i18n import Message, _
from cartflow.i18n.labels import InText
from cartflow.models.custody import HandoffStep

STEP_LABELS: Final[Mapping[HandoffStep, Message]] = MappingProxyType(
    {
        HandoffStep.COLLECTION: _("Collection (end of apheresis)"),
        HandoffStep.APHERESIS_PICKUP: _("Courier pick-up of the apheresis"),
        HandoffStep.SITE_RECEIPT: _("Receipt at the manufacturing site"),
        HandoffStep.CRYOPRESERVATION: _("Into the site's cryostore"),
        HandoffStep.RELEASE: _("Released product out of quarantine storage"),
        HandoffStep.PRODUCT_PICKUP: _("Courier pick-up of the product"),
        HandoffStep.CENTER_RECEIPT: _("Receipt at the treatment center"),
        HandoffStep.STORAGE: _("Into the center's storage"),
        HandoffStep.BEDSIDE: _("Bedside (two-person identity check)"),
    }
)


def step_in_text(step: HandoffStep) -> InText:
    """A hand-off step's name inside a sentence, in the reader's language."""
    return InText(STEP_LABELS[step])
