"""Names of the codes people meet in messages and pages: episode states and roles.

The codes (``slot_booked``, ``qualified_person``) are the API's and never change; a person reads
them by these names, in their language. Services use them inside refusals
(``_("... it is {state}", state=state_in_text(episode.state))``) so a Russian reader never meets
an English code in a Russian sentence.
"""

from __future__ import annotations

from collections.abc import Iterable

from cartflow.i18n import Message, _
from cartflow.models import EpisodeState, Role

STATE_LABELS: dict[EpisodeState, Message] = {
    EpisodeState.REFERRED: _("Referred"),
    EpisodeState.ELIGIBLE: _("Eligible"),
    EpisodeState.SLOT_BOOKED: _("Slot booked"),
    EpisodeState.APHERESIS_COLLECTED: _("Cells collected"),
    EpisodeState.IN_MANUFACTURING: _("In manufacturing"),
    EpisodeState.QC: _("In QC"),
    EpisodeState.RELEASED: _("Released"),
    EpisodeState.SHIPPED: _("Shipped"),
    EpisodeState.RECEIVED: _("Received at center"),
    EpisodeState.LYMPHODEPLETION: _("Lymphodepletion"),
    EpisodeState.INFUSED: _("Infused"),
    EpisodeState.FOLLOW_UP: _("Follow-up"),
    EpisodeState.CLOSED: _("Closed"),
    EpisodeState.WITHDRAWN: _("Withdrawn"),
}


ROLE_LABELS: dict[Role, Message] = {
    Role.COORDINATOR: _("coordinator"),
    Role.APHERESIS_NURSE: _("apheresis nurse"),
    Role.PLANNER: _("manufacturing planner"),
    Role.QC_ANALYST: _("QC analyst"),
    Role.QUALIFIED_PERSON: _("qualified person"),
    Role.CLINICIAN: _("clinician"),
    Role.COURIER: _("courier"),
    Role.REGISTRY_ANALYST: _("registry analyst"),
    Role.ADMIN: _("administrator"),
}


def state_label(value: EpisodeState | str) -> Message | str:
    """An episode state's name (an unknown code is shown as it is)."""
    try:
        return STATE_LABELS[EpisodeState(value)]
    except ValueError:
        return str(value)


def role_label(value: Role | str) -> Message | str:
    try:
        return ROLE_LABELS[Role(value)]
    except ValueError:
        return str(value).replace("_", " ")


class InText(Message):
    """A name inside a sentence: its first letter lowered, unless it starts an abbreviation."""

    __slots__ = ("name",)

    def __init__(self, name: Message | str) -> None:
        super().__init__("")
        self.name = name

    def render(self, locale: str) -> str:
        text = self.name.render(locale) if isinstance(self.name, Message) else self.name
        if len(text) > 1 and text[1].isupper():
            return text
        return text[:1].lower() + text[1:]


def state_in_text(value: EpisodeState | str) -> InText:
    """An episode state's name inside a sentence ("it is in QC", «он на контроле качества»)."""
    return InText(state_label(value))


class Listing(Message):
    """Several names joined with commas, each in the reader's language when shown."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Message | str]) -> None:
        super().__init__("")
        self.items = tuple(items)

    def render(self, locale: str) -> str:
        return ", ".join(
            item.render(locale) if isinstance(item, Message) else item for item in self.items
        )


def states_listing(states: Iterable[EpisodeState]) -> Listing:
    ordered = sorted(states, key=list(EpisodeState).index)
    return Listing(state_in_text(s) for s in ordered)


def roles_listing(roles: Iterable[Role]) -> Listing:
    return Listing(role_label(r) for r in sorted(roles, key=list(Role).index))
