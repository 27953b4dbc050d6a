"""Batch states, step order and the guards of every manufacturing, QC and disposition step.
Pure: the services gather the facts, ask a guard, and raise `ManufacturingRefused` with the code of
the rule that failed.

    in_process --submit_for_qc--> in_qc --release--> released
    in_process --terminate------> terminated
    in_qc --release (out of specification, physician's request)--> awaiting_second_signature
    awaiting_second_signature --approve (a second person)--> released
    in_qc | awaiting_second_signature --reject--> rejected

Four-eyes (as in SENAITE LIMS): the analyst who entered a result cannot verify it, and nobody who
entered or verified a result of a batch may sign that batch's disposition. An exceptional release
of an out-of-specification product (EU GMP for ATMPs, C(2017) 7694 §11.5) needs the treating
physician's written request on record and a second signature from another person.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from cartflow.i18n import Message, _
from cartflow.manufacturing.labels import BATCH_STATES, STEPS
from cartflow.models.manufacturing import BatchState, StepKind

STEP_ORDER: tuple[StepKind, ...] = tuple(StepKind)
# Clocks on the floor and the server differ a little; anything later than this is a typing error.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Allowed:
    allowed: bool = True


@dataclass(frozen=True)
class Denied:
    code: str
    message: Message
    allowed: bool = False


Decision = Allowed | Denied
ALLOWED = Allowed()


@dataclass(frozen=True)
class StepTimes:
    step: StepKind
    started_at: dt.datetime
    completed_at: dt.datetime


def _state(state: BatchState) -> Message | str:
    """The state as a reader sees it (the stored value where no label exists)."""
    return BATCH_STATES.get(state, state.value)


def _step(step: StepKind) -> Message | str:
    return STEPS.get(step, step.value)


def next_step(recorded: Sequence[StepKind]) -> StepKind | None:
    done = set(recorded)
    return next((s for s in STEP_ORDER if s not in done), None)


def _times(step: StepTimes, *, now: dt.datetime) -> Decision:
    if step.completed_at < step.started_at:
        return Denied("STEP-003", _("{step} cannot end before it starts", step=_step(step.step)))
    if step.completed_at > now + CLOCK_SKEW or step.started_at > now + CLOCK_SKEW:
        return Denied("STEP-004", _("{step} is dated in the future", step=_step(step.step)))
    return ALLOWED


def guard_record_step(
    *,
    state: BatchState,
    current: Sequence[StepTimes],
    new: StepTimes,
    now: dt.datetime,
    collected_at: dt.datetime | None,
) -> Decision:
    """Steps are recorded in order, each starting after the previous one ended, none in the
    future; the apheresis material cannot arrive before it was collected."""
    if state is not BatchState.IN_PROCESS:
        return Denied(
            "STEP-001",
            _(
                "steps are recorded while the batch is in process; it is {state}",
                state=_state(state),
            ),
        )
    recorded = [s.step for s in current]
    if new.step in recorded:
        return Denied(
            "STEP-002",
            _(
                "{step} is already recorded; correct it with a reason instead",
                step=_step(new.step),
            ),
        )
    expected = next_step(recorded)
    if new.step is not expected:
        return Denied(
            "STEP-002",
            _(
                "the next step is {expected}, not {step}",
                expected=_step(expected) if expected else "-",
                step=_step(new.step),
            ),
        )
    decision = _times(new, now=now)
    if isinstance(decision, Denied):
        return decision
    if current and new.started_at < current[-1].completed_at:
        return Denied(
            "STEP-005",
            _(
                "{step} starts before {previous} ended ({ended})",
                step=_step(new.step),
                previous=_step(current[-1].step),
                ended=current[-1].completed_at.isoformat(),
            ),
        )
    if (
        new.step is StepKind.APHERESIS_RECEIPT
        and collected_at is not None
        and new.completed_at < collected_at
    ):
        return Denied(
            "STEP-006",
            _(
                "the apheresis material cannot arrive before it was collected ({collected})",
                collected=collected_at.isoformat(),
            ),
        )
    return ALLOWED


def guard_correct_step(
    *,
    state: BatchState,
    current: Sequence[StepTimes],
    corrected: StepTimes,
    is_current_revision: bool,
    now: dt.datetime,
) -> Decision:
    """A correction keeps the order of the steps around it; only the current revision is corrected,
    and only before the disposition."""
    if state not in (BatchState.IN_PROCESS, BatchState.IN_QC):
        return Denied(
            "STEP-007",
            _("steps are corrected before disposition; the batch is {state}", state=_state(state)),
        )
    if not is_current_revision:
        return Denied("STEP-008", _("this revision was already corrected; correct the latest one"))
    decision = _times(corrected, now=now)
    if isinstance(decision, Denied):
        return decision
    index = [s.step for s in current].index(corrected.step)
    before = current[index - 1] if index > 0 else None
    after = current[index + 1] if index + 1 < len(current) else None
    if before is not None and corrected.started_at < before.completed_at:
        return Denied(
            "STEP-005",
            _(
                "{step} would start before {previous} ended",
                step=_step(corrected.step),
                previous=_step(before.step),
            ),
        )
    if after is not None and corrected.completed_at > after.started_at:
        return Denied(
            "STEP-005",
            _(
                "{step} would end after {following} started",
                step=_step(corrected.step),
                following=_step(after.step),
            ),
        )
    return ALLOWED


def guard_terminate(state: BatchState) -> Decision:
    if state is not BatchState.IN_PROCESS:
        return Denied(
            "TERM-001",
            _("only a batch in process can be terminated; it is {state}", state=_state(state)),
        )
    return ALLOWED


def guard_submit_for_qc(state: BatchState, recorded: Sequence[StepKind]) -> Decision:
    """Testing begins when the product is cryopreserved, every step before it on record."""
    if state is not BatchState.IN_PROCESS:
        return Denied(
            "QC-SUBMIT-001", _("the batch is {state}, not in process", state=_state(state))
        )
    missing = [s.value for s in STEP_ORDER if s not in set(recorded)]
    if missing:
        return Denied(
            "QC-SUBMIT-002", _("steps not yet recorded: {steps}", steps=", ".join(missing))
        )
    return ALLOWED


def guard_remanufacture(state: BatchState, *, is_latest: bool) -> Decision:
    if state not in (BatchState.REJECTED, BatchState.TERMINATED):
        return Denied(
            "REMAN-001",
            _(
                "only a rejected or terminated batch is re-made; this one is {state}",
                state=_state(state),
            ),
        )
    if not is_latest:
        return Denied("REMAN-002", _("a later batch of this episode already exists"))
    return ALLOWED


# --- QC results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultFacts:
    """What a guard may know about one QC result."""

    id: uuid.UUID
    test: str
    entered_by: uuid.UUID
    verified_by: uuid.UUID | None
    within_spec: bool
    is_current: bool


def guard_results_open(state: BatchState) -> Decision:
    if state is not BatchState.IN_QC:
        return Denied(
            "QC-001",
            _(
                "results are entered while the batch is in QC; the batch is {state}",
                state=_state(state),
            ),
        )
    return ALLOWED


def guard_enter_result(state: BatchState, *, test: str, current: Sequence[ResultFacts]) -> Decision:
    decision = guard_results_open(state)
    if isinstance(decision, Denied):
        return decision
    if any(r.test == test for r in current if r.is_current):
        return Denied(
            "QC-002", _("{test} already has a result; enter a retest with a reason", test=test)
        )
    return ALLOWED


def guard_retest(state: BatchState, result: ResultFacts) -> Decision:
    decision = guard_results_open(state)
    if isinstance(decision, Denied):
        return decision
    if not result.is_current:
        return Denied("QC-003", _("this result was already superseded; retest the latest attempt"))
    return ALLOWED


def guard_verify(state: BatchState, result: ResultFacts, *, verifier: uuid.UUID) -> Decision:
    """Four-eyes: a different analyst verifies each result."""
    decision = guard_results_open(state)
    if isinstance(decision, Denied):
        return decision
    if not result.is_current:
        return Denied("QC-003", _("this result was superseded by a retest; verify the retest"))
    if result.verified_by is not None:
        return Denied("QC-005", _("this result is already verified"))
    if result.entered_by == verifier:
        return Denied(
            "QC-004", _("four-eyes rule: the analyst who entered a result cannot verify it")
        )
    return ALLOWED


# --- disposition --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DispositionFacts:
    state: BatchState
    required_tests: tuple[str, ...]
    results: tuple[ResultFacts, ...]
    has_exceptional_request: bool
    requested_by: uuid.UUID | None
    first_signer: uuid.UUID | None

    @property
    def current(self) -> tuple[ResultFacts, ...]:
        return tuple(r for r in self.results if r.is_current)

    @property
    def out_of_specification(self) -> tuple[str, ...]:
        return tuple(sorted(r.test for r in self.current if not r.within_spec))

    def testers(self) -> frozenset[uuid.UUID]:
        people = {r.entered_by for r in self.results}
        people |= {r.verified_by for r in self.results if r.verified_by is not None}
        return frozenset(people)


def _independent(facts: DispositionFacts, signer: uuid.UUID) -> Decision:
    if signer in facts.testers():
        return Denied(
            "REL-002",
            _("the qualified person must not have entered or verified a QC result of this batch"),
        )
    return ALLOWED


def readiness(facts: DispositionFacts) -> list[Denied]:
    """Everything that stands between the batch and a disposition that releases it."""
    problems: list[Denied] = []
    have = {r.test for r in facts.current}
    missing = [t for t in facts.required_tests if t not in have]
    if missing:
        problems.append(
            Denied("REL-003", _("required results missing: {tests}", tests=", ".join(missing)))
        )
    unverified = sorted(r.test for r in facts.current if r.verified_by is None)
    if unverified:
        problems.append(
            Denied("REL-004", _("results not yet verified: {tests}", tests=", ".join(unverified)))
        )
    return problems


def guard_release(facts: DispositionFacts, *, signer: uuid.UUID) -> Decision:
    """Release needs every required result present, every result verified, a signer independent of
    the testing, and, when a result is out of specification, the physician's request on record."""
    if facts.state is BatchState.AWAITING_SECOND_SIGNATURE:
        return Denied("REL-001", _("the exceptional release awaits its second signature"))
    if facts.state is not BatchState.IN_QC:
        return Denied(
            "REL-001", _("only a batch in QC is released; it is {state}", state=_state(facts.state))
        )
    problems = readiness(facts)
    if problems:
        return problems[0]
    decision = _independent(facts, signer)
    if isinstance(decision, Denied):
        return decision
    if facts.out_of_specification and not facts.has_exceptional_request:
        return Denied(
            "REL-005",
            _(
                "out of specification ({tests}): release needs the treating physician's "
                "written request on record",
                tests=", ".join(facts.out_of_specification),
            ),
        )
    if facts.requested_by == signer:
        return Denied("REL-009", _("the requesting physician cannot sign the release"))
    return ALLOWED


def guard_second_signature(facts: DispositionFacts, *, signer: uuid.UUID) -> Decision:
    if facts.state is not BatchState.AWAITING_SECOND_SIGNATURE:
        return Denied(
            "REL-007",
            _(
                "no exceptional release awaits a second signature ({state})",
                state=_state(facts.state),
            ),
        )
    if facts.first_signer == signer:
        return Denied("REL-008", _("the second signature must come from a different person"))
    if facts.requested_by == signer:
        return Denied("REL-009", _("the requesting physician cannot sign the release"))
    return _independent(facts, signer)


def guard_reject(facts: DispositionFacts, *, signer: uuid.UUID) -> Decision:
    if facts.state not in (BatchState.IN_QC, BatchState.AWAITING_SECOND_SIGNATURE):
        return Denied(
            "REJ-001", _("only a batch in QC is rejected; it is {state}", state=_state(facts.state))
        )
    return _independent(facts, signer)


def guard_exceptional_request(facts: DispositionFacts) -> Decision:
    if facts.state is not BatchState.IN_QC:
        return Denied("EXC-001", _("the batch is {state}, not in QC", state=_state(facts.state)))
    if facts.has_exceptional_request:
        return Denied("EXC-003", _("a request for this batch is already on record"))
    if not facts.out_of_specification:
        return Denied("EXC-002", _("no result of this batch is out of specification"))
    return ALLOWED
