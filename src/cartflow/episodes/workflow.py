"""The vein-to-vein state machine: states, transitions and their guards, as data and pure functions.

Each transition names the states it may start from, the state it leads to, the roles that may take
it, and a guard that returns the rule that failed. Nothing here touches the database: the service
(`cartflow.episodes.service`) gathers the facts, asks the guard, and writes the change with its
audit event in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from cartflow.i18n import Message, _, gettext
from cartflow.models import Diagnosis, EpisodeState, Role, WithdrawalReason

S = EpisodeState


@dataclass(frozen=True)
class Allowed:
    allowed: bool = True


@dataclass(frozen=True)
class Denied:
    code: str
    # Shown in the reader's language; a plain str is taken as already written for them.
    message: str | Message
    allowed: bool = False


Decision = Allowed | Denied
ALLOWED = Allowed()


@dataclass(frozen=True)
class IndicationRule:
    diagnosis: Diagnosis
    min_age_years: int
    max_age_years: int | None
    min_prior_lines: int


@dataclass(frozen=True)
class EpisodeFacts:
    """What a guard may know about an episode at the moment of the transition."""

    state: EpisodeState
    today: dt.date
    patient_age_years: int
    diagnosis: Diagnosis
    prior_lines_of_therapy: int
    indications: tuple[IndicationRule, ...]
    earliest_apheresis_date: dt.date
    has_chain_of_identity: bool


@dataclass(frozen=True)
class TransitionInput:
    reason: str = ""
    withdrawal_reason: WithdrawalReason | None = None
    planned_apheresis_date: dt.date | None = None
    planned_infusion_date: dt.date | None = None


Guard = Callable[[EpisodeFacts, TransitionInput], Decision]


def no_guard(_facts: EpisodeFacts, _request: TransitionInput) -> Decision:
    return ALLOWED


def guard_eligibility(facts: EpisodeFacts, _request: TransitionInput) -> Decision:
    """The product must be indicated for the patient's diagnosis, age and number of prior lines
    (per the product's configured indications, taken from its label or protocol)."""
    rules = [r for r in facts.indications if r.diagnosis is facts.diagnosis]
    if not rules:
        return Denied(
            "ELIG-001",
            _("the product is not indicated for {diagnosis}", diagnosis=facts.diagnosis.value),
        )
    age = facts.patient_age_years
    if not any(
        r.min_age_years <= age and (r.max_age_years is None or age <= r.max_age_years)
        for r in rules
    ):
        limits = "; ".join(
            gettext(
                "{low}-{high} years",
                low=r.min_age_years,
                high=r.max_age_years if r.max_age_years is not None else "",
            )
            for r in rules
        )
        return Denied(
            "ELIG-002",
            _("patient age {age} is outside the indication ({limits})", age=age, limits=limits),
        )
    if not any(facts.prior_lines_of_therapy >= r.min_prior_lines for r in rules):
        needed = min(r.min_prior_lines for r in rules)
        return Denied(
            "ELIG-003",
            _(
                "the indication needs at least {needed} prior lines of therapy; "
                "the patient has {lines}",
                needed=needed,
                lines=facts.prior_lines_of_therapy,
            ),
        )
    return ALLOWED


def guard_book_slot(facts: EpisodeFacts, request: TransitionInput) -> Decision:
    """A booking names the apheresis date, not before the patient's earliest date or today."""
    day = request.planned_apheresis_date
    if day is None:
        return Denied("BOOK-001", _("booking a slot needs planned_apheresis_date"))
    if day < facts.earliest_apheresis_date:
        return Denied(
            "BOOK-002",
            _(
                "apheresis on {day} is before the patient's earliest date {earliest}",
                day=day,
                earliest=facts.earliest_apheresis_date,
            ),
        )
    if day < facts.today:
        return Denied("BOOK-003", _("apheresis on {day} is in the past", day=day))
    if request.planned_infusion_date is not None and request.planned_infusion_date <= day:
        return Denied("BOOK-004", _("the planned infusion date must come after apheresis"))
    return ALLOWED


def guard_collection(facts: EpisodeFacts, _request: TransitionInput) -> Decision:
    """Cells are collected only into containers labelled with the episode's chain of identity."""
    if not facts.has_chain_of_identity:
        return Denied("APH-001", _("the episode has no chain of identity identifier to label with"))
    return ALLOWED


def guard_reason_required(_facts: EpisodeFacts, request: TransitionInput) -> Decision:
    if not request.reason.strip():
        return Denied("REASON-001", _("this step needs a reason"))
    return ALLOWED


def guard_withdrawal(_facts: EpisodeFacts, request: TransitionInput) -> Decision:
    if request.withdrawal_reason is None:
        return Denied("WD-001", _("withdrawal needs withdrawal_reason (e.g. death, progression)"))
    if request.withdrawal_reason is WithdrawalReason.OTHER and not request.reason.strip():
        return Denied("WD-002", _("withdrawal for 'other' needs a reason in words"))
    return ALLOWED


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[EpisodeState]
    target: EpisodeState
    roles: frozenset[Role]
    guard: Guard = no_guard
    description: Message | str = ""
    extra_guards: tuple[Guard, ...] = field(default=())
    # A step that needs more than a state change (a signed disposition, a two-person bedside
    # check, a scanned hand-off) is owned by that domain's service: the generic transition
    # endpoint refuses it and names where it is recorded.
    owner: str | None = None

    def check(
        self, facts: EpisodeFacts, request: TransitionInput, *, on_behalf_of: str | None = None
    ) -> Decision:
        if self.owner is not None and on_behalf_of != self.owner:
            return Denied(
                "STATE-002",
                _(
                    "'{transition}' is recorded through {owner}, not directly",
                    transition=self.name,
                    owner=self.owner,
                ),
            )
        if facts.state not in self.sources:
            allowed = ", ".join(sorted(s.value for s in self.sources))
            return Denied(
                "STATE-001",
                _(
                    "'{transition}' is allowed only from {allowed}; the episode is {state}",
                    transition=self.name,
                    allowed=allowed,
                    state=facts.state.value,
                ),
            )
        for guard in (self.guard, *self.extra_guards):
            decision = guard(facts, request)
            if isinstance(decision, Denied):
                return decision
        return ALLOWED


R = Role
_PRE_INFUSION = frozenset(
    {
        S.REFERRED,
        S.ELIGIBLE,
        S.SLOT_BOOKED,
        S.APHERESIS_COLLECTED,
        S.IN_MANUFACTURING,
        S.QC,
        S.RELEASED,
        S.SHIPPED,
        S.RECEIVED,
        S.LYMPHODEPLETION,
    }
)

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "confirm_eligibility",
            frozenset({S.REFERRED}),
            S.ELIGIBLE,
            frozenset({R.COORDINATOR, R.CLINICIAN}),
            guard_eligibility,
            _("The treating team confirms the patient meets the product's indication."),
            owner="clinical",
        ),
        Transition(
            "book_slot",
            frozenset({S.ELIGIBLE}),
            S.SLOT_BOOKED,
            frozenset({R.COORDINATOR, R.PLANNER}),
            guard_book_slot,
            _("An apheresis date and a manufacturing slot are booked."),
            owner="scheduling",
        ),
        Transition(
            "record_apheresis",
            frozenset({S.SLOT_BOOKED}),
            S.APHERESIS_COLLECTED,
            frozenset({R.APHERESIS_NURSE}),
            guard_collection,
            _("The patient's cells are collected and labelled."),
            owner="custody",
        ),
        Transition(
            "start_manufacturing",
            frozenset({S.APHERESIS_COLLECTED}),
            S.IN_MANUFACTURING,
            frozenset({R.PLANNER}),
            description=_("The site receives the cells and starts a batch."),
            owner="manufacturing",
        ),
        Transition(
            "submit_for_qc",
            frozenset({S.IN_MANUFACTURING}),
            S.QC,
            frozenset({R.PLANNER, R.QC_ANALYST}),
            description=_("The product is cryopreserved and its release testing begins."),
            owner="manufacturing",
        ),
        Transition(
            "release",
            frozenset({S.QC}),
            S.RELEASED,
            frozenset({R.QUALIFIED_PERSON}),
            description=_("The qualified person releases the product."),
            owner="manufacturing",
        ),
        Transition(
            "remanufacture",
            frozenset({S.IN_MANUFACTURING, S.QC}),
            S.APHERESIS_COLLECTED,
            frozenset({R.PLANNER, R.QUALIFIED_PERSON}),
            guard_reason_required,
            _("A failed batch goes back for a new manufacturing run."),
            owner="manufacturing",
        ),
        Transition(
            "ship",
            frozenset({S.RELEASED}),
            S.SHIPPED,
            frozenset({R.COURIER}),
            description=_("The frozen product leaves the site in a dry shipper."),
            owner="custody",
        ),
        Transition(
            "receive",
            frozenset({S.SHIPPED}),
            S.RECEIVED,
            frozenset({R.COORDINATOR, R.APHERESIS_NURSE, R.CLINICIAN}),
            description=_("The center receives the shipper and stores the product."),
            owner="custody",
        ),
        Transition(
            "start_lymphodepletion",
            frozenset({S.RECEIVED}),
            S.LYMPHODEPLETION,
            frozenset({R.CLINICIAN}),
            description=_("Lymphodepleting chemotherapy starts (product on site, released)."),
            owner="clinical",
        ),
        Transition(
            "infuse",
            frozenset({S.LYMPHODEPLETION}),
            S.INFUSED,
            frozenset({R.CLINICIAN}),
            description=_("The product is thawed and infused after the bedside identity check."),
            owner="clinical",
        ),
        Transition(
            "start_follow_up",
            frozenset({S.INFUSED}),
            S.FOLLOW_UP,
            frozenset({R.CLINICIAN, R.COORDINATOR}),
            description=_("The acute toxicity window is over; long-term follow-up begins."),
        ),
        Transition(
            "close",
            frozenset({S.FOLLOW_UP}),
            S.CLOSED,
            frozenset({R.CLINICIAN, R.COORDINATOR}),
            guard_reason_required,
            _("Follow-up ends (completed, death, lost to follow-up)."),
        ),
        Transition(
            "withdraw",
            _PRE_INFUSION,
            S.WITHDRAWN,
            frozenset({R.COORDINATOR, R.CLINICIAN}),
            guard_withdrawal,
            _("The patient leaves the pathway before infusion."),
        ),
    )
}


def transition_named(name: str) -> Transition | None:
    return TRANSITIONS.get(name)


def available_transitions(state: EpisodeState) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if state in t.sources]


# What the pages call each step (the transition's name stays the machine-readable key).
TRANSITION_LABELS: dict[str, Message] = {
    "confirm_eligibility": _("Confirm eligibility"),
    "book_slot": _("Book slot"),
    "record_apheresis": _("Record apheresis"),
    "start_manufacturing": _("Start manufacturing"),
    "submit_for_qc": _("Submit for QC"),
    "release": _("Release"),
    "remanufacture": _("Remanufacture"),
    "ship": _("Ship"),
    "receive": _("Receive"),
    "start_lymphodepletion": _("Start lymphodepletion"),
    "infuse": _("Infuse"),
    "start_follow_up": _("Start follow-up"),
    "close": _("Close"),
    "withdraw": _("Withdraw"),
}


def transition_label(name: str) -> str:
    """A step's name for people, in the current language (an unknown name is shown as is)."""
    label = TRANSITION_LABELS.get(name)
    return str(label) if label is not None else name.replace("_", " ")
