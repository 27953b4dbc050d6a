"""What the pages show about an episode: who it is for (as far as the viewer may know), what the
next step is and who takes it. Every rule is asked of its owner: the transition table
(`cartflow.episodes.workflow`), the scope rules (`cartflow.auth.scope`) and the episode service;
this module only arranges their answers for a template.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.auth.scope import PATIENT_READERS, roles_on_episode
from cartflow.db.base import utcnow
from cartflow.episodes import service as episodes
from cartflow.episodes import workflow
from cartflow.i18n import Message, _
from cartflow.identity.isbt128 import ChainOfIdentityId
from cartflow.models import (
    DiseaseStatus,
    Episode,
    EpisodeState,
    Sex,
    TreatmentCenter,
    WithdrawalReason,
)

OPEN_STATES: tuple[EpisodeState, ...] = tuple(
    s for s in EpisodeState if s not in (EpisodeState.CLOSED, EpisodeState.WITHDRAWN)
)
# The order of the vein-to-vein path, for sorting worklists by how far an episode has come.
PATH_ORDER = {state: index for index, state in enumerate(EpisodeState)}
MAX_ROWS = 500


# Where a step owned by a domain service is taken (the generic transition form refuses it).
OWNED_STEP_PAGES: dict[str, tuple[str, Message]] = {
    "confirm_eligibility": ("/clinician/episodes/{id}/eligibility", _("Assess eligibility")),
    "book_slot": ("/episodes/{id}/booking", _("Book apheresis and manufacturing")),
    "record_apheresis": (
        "/scan?episode={id}&step=collection",
        _("Label and scan the collection"),
    ),
    "start_manufacturing": ("/manufacturing/episodes/{id}", _("Start the batch")),
    "submit_for_qc": ("/manufacturing/episodes/{id}", _("Open the batch record")),
    "release": ("/manufacturing/episodes/{id}", _("Open the batch record")),
    "remanufacture": ("/manufacturing/episodes/{id}", _("Open the batch record")),
    "ship": ("/scan?episode={id}&step=product_pickup", _("Scan the pick-up")),
    "receive": ("/scan?episode={id}&step=center_receipt", _("Scan the receipt")),
    "start_lymphodepletion": ("/clinician/episodes/{id}/lymphodepletion", _("Lymphodepletion")),
    "infuse": ("/clinician/episodes/{id}/infusion", _("Bedside check and infusion")),
}

# Where a step owned by a domain service is recorded, as the pages name that domain.
OWNER_LABELS: dict[str, Message] = {
    "clinical": _("the clinical pages"),
    "scheduling": _("the booking page"),
    "custody": _("the custody scans"),
    "manufacturing": _("the batch record"),
}

SEX_LABELS: dict[Sex, Message] = {Sex.FEMALE: _("female"), Sex.MALE: _("male")}
DISEASE_STATUS_LABELS: dict[DiseaseStatus, Message] = {
    DiseaseStatus.RELAPSED: _("relapsed"),
    DiseaseStatus.REFRACTORY: _("refractory"),
    DiseaseStatus.MRD_POSITIVE: _("MRD-positive"),
    DiseaseStatus.STABLE: _("stable disease"),
    DiseaseStatus.PROGRESSING: _("progressing"),
    DiseaseStatus.COMPLETE_REMISSION: _("complete remission"),
    DiseaseStatus.PARTIAL_REMISSION: _("partial remission"),
}
WITHDRAWAL_REASON_LABELS: dict[WithdrawalReason, Message] = {
    WithdrawalReason.DEATH: _("death"),
    WithdrawalReason.PROGRESSION: _("progression"),
    WithdrawalReason.INELIGIBLE: _("ineligible"),
    WithdrawalReason.MANUFACTURING_FAILURE: _("manufacturing failure"),
    WithdrawalReason.PATIENT_DECISION: _("patient decision"),
    WithdrawalReason.CLINICAL_DECISION: _("clinical decision"),
    WithdrawalReason.OTHER: _("other"),
}


def label_of(labels: dict[Any, Message], value: object) -> str:
    """An enum value's label in the current language (an unknown value is shown as it is)."""
    found = labels.get(value)
    return str(found) if found is not None else str(value).replace("_", " ")


def options(labels: dict[Any, Message]) -> list[tuple[str, str]]:
    """(value, label) pairs for a <select>, in the current language."""
    return [(str(value), str(label)) for value, label in labels.items()]


def action_label(action: str) -> str:
    """An episode audit event's action (a transition name, or the referral) for people."""
    if action == "refer":
        return str(_("Refer"))
    return workflow.transition_label(action)


@dataclass(frozen=True)
class Step:
    """One possible next step: its transition, who takes it, and whether this viewer can (by the
    generic form, `actor_may`, or on the owning domain's page, `href`)."""

    transition: workflow.Transition
    roles: tuple[str, ...]
    actor_may: bool
    href: str | None = None
    link_label: Message | str = ""

    @property
    def name(self) -> str:
        return self.transition.name

    @property
    def label(self) -> str:
        return workflow.transition_label(self.transition.name)

    @property
    def owner(self) -> str | None:
        return self.transition.owner

    @property
    def owner_label(self) -> str:
        owner = self.transition.owner
        return label_of(OWNER_LABELS, owner) if owner else ""


@dataclass(frozen=True)
class Row:
    """One worklist row: the episode, how the viewer may name the patient, its main next step."""

    episode: Episode
    patient: str
    mrn: str
    step: Step | None
    note: str = ""

    @property
    def mine(self) -> bool:
        return self.step is not None and (self.step.actor_may or self.step.href is not None)


def row(actor: Actor, episode: Episode, *, note: str = "") -> Row:
    return Row(
        episode=episode,
        patient=patient_label(actor, episode),
        mrn=episode.patient.mrn if shows_identity(actor, episode) else "",
        step=main_step(next_steps(actor, episode)),
        note=note,
    )


def shows_identity(actor: Actor, episode: Episode) -> bool:
    """Names and MRN only for the clinical roles of the episode's own center (auth.scope)."""
    return episode.center_id in actor.center_ids(*PATIENT_READERS)


def patient_label(actor: Actor, episode: Episode) -> str:
    if shows_identity(actor, episode):
        p = episode.patient
        return f"{p.family_name} {p.given_name}".strip() or p.pseudonym
    return episode.patient.pseudonym


def next_steps(actor: Actor, episode: Episode) -> list[Step]:
    held = roles_on_episode(actor, episode)
    steps = []
    for transition in workflow.available_transitions(episode.state):
        may = bool(held & transition.roles)
        page = OWNED_STEP_PAGES.get(transition.name) if transition.owner else None
        steps.append(
            Step(
                transition=transition,
                roles=tuple(sorted(r.value for r in transition.roles)),
                actor_may=may and transition.owner is None,
                href=page[0].format(id=episode.id) if page and may else None,
                link_label=page[1] if page else "",
            )
        )
    return steps


# Steps never offered as a one-click worklist action: they need a reason and a deliberate look at
# the episode first (its own page offers them).
_NOT_QUICK = frozenset({"withdraw", "remanufacture", "close"})


def main_step(steps: Iterable[Step]) -> Step | None:
    """The step that moves the episode forward, if it is a worklist action."""
    for step in steps:
        if step.name not in _NOT_QUICK:
            return step
    return None


def check_character(episode: Episode) -> str:
    if episode.chain_of_identity is None:
        return ""
    return ChainOfIdentityId.parse(episode.chain_of_identity).check_character


def open_episodes(
    session: Session,
    *,
    actor: Actor,
    states: Iterable[EpisodeState] = OPEN_STATES,
    center_id: uuid.UUID | None = None,
    site_id: uuid.UUID | None = None,
) -> list[Episode]:
    """Episodes in scope in the given states, most urgent first (priority, then path order)."""
    rows: list[Episode] = []
    for state in states:
        found, _total = episodes.list_episodes(
            session,
            actor=actor,
            filters=episodes.EpisodeFilter(state=state, center_id=center_id, site_id=site_id),
            limit=MAX_ROWS,
            offset=0,
        )
        rows.extend(found)
    return sorted(rows, key=lambda e: (-e.priority, PATH_ORDER[e.state], e.referred_on))


def local_today(center: TreatmentCenter | None) -> dt.date:
    """Today where the center is (a ward's "today" is its own calendar day, not UTC's)."""
    if center is None:
        return utcnow().date()
    return utcnow().astimezone(zoneinfo.ZoneInfo(center.timezone)).date()
