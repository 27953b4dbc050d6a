"""What the batch states, manufacturing steps and disposition words read as on a page.

The stored values (`in_qc`, `apheresis_receipt`, `release`) are machine-readable and never change;
pages and documents show these labels in the reader's language.
"""

from __future__ import annotations

from cartflow.audit.signatures import (
    EXCEPTIONAL_RELEASE_APPROVED,
    QC_VERIFIED,
    REJECTED,
    RELEASED_FOR_INFUSION,
)
from cartflow.i18n import Message, _, current_locale
from cartflow.models.manufacturing import BatchState, StepKind
from cartflow.models.manufacturing_qc import DispositionDecision, DispositionStatus

BATCH_STATES: dict[str, Message] = {
    BatchState.IN_PROCESS: _("in process"),
    BatchState.IN_QC: _("in QC"),
    BatchState.AWAITING_SECOND_SIGNATURE: _("awaiting second signature"),
    BatchState.RELEASED: _("released"),
    BatchState.REJECTED: _("rejected"),
    BatchState.TERMINATED: _("terminated"),
}

STEPS: dict[str, Message] = {
    StepKind.APHERESIS_RECEIPT: _("apheresis receipt"),
    StepKind.ACTIVATION: _("activation"),
    StepKind.TRANSDUCTION: _("transduction"),
    StepKind.EXPANSION: _("expansion"),
    StepKind.HARVEST: _("harvest"),
    StepKind.FORMULATION: _("formulation"),
    StepKind.CRYOPRESERVATION: _("cryopreservation"),
}

DECISIONS: dict[str, Message] = {
    DispositionDecision.RELEASE: _("Batch release"),
    DispositionDecision.REJECT: _("Batch rejection"),
}

DISPOSITION_STATUSES: dict[str, Message] = {
    DispositionStatus.AWAITING_SECOND_SIGNATURE: _("awaiting second signature"),
    DispositionStatus.EFFECTIVE: _("effective"),
    DispositionStatus.CANCELLED: _("cancelled"),
}


# A signature's meaning is stored as signed (in English); a page shows it in the reader's
# language with the signed wording beside it, so what is shown is what the record holds.
# The meaning of the physician's exceptional release request (used by manufacturing.signing).
EXCEPTIONAL_RELEASE_REQUESTED = "Exceptional release requested by the treating physician"
MEANINGS: dict[str, Message] = {
    QC_VERIFIED: _("QC verified"),
    RELEASED_FOR_INFUSION: _("Released for infusion"),
    REJECTED: _("Rejected"),
    EXCEPTIONAL_RELEASE_APPROVED: _("Exceptional release approved"),
    EXCEPTIONAL_RELEASE_REQUESTED: _("Exceptional release requested by the treating physician"),
}


def meaning_label(meaning: str) -> str:
    label = MEANINGS.get(meaning)
    if label is None or current_locale() == "en":
        return meaning
    return f"{label} ({meaning})"


def _label(table: dict[str, Message], value: object) -> str:
    key = getattr(value, "value", value)
    label = table.get(str(key))
    return str(label) if label is not None else str(key).replace("_", " ")


def batch_state_label(value: object) -> str:
    return _label(BATCH_STATES, value)


def step_label(value: object) -> str:
    return _label(STEPS, value)


def decision_label(value: object) -> str:
    return _label(DECISIONS, value)


def disposition_status_label(value: object) -> str:
    return _label(DISPOSITION_STATUSES, value)
