"""The hand-offs of the vein-to-vein path as data, and the pure judgement of one scan.

Each step says who may scan, in which episode states, where the container goes, whether a second
person must confirm, and which episode transition it completes. Each container kind follows a
fixed path of steps; a container is expected at the step after its last one.

Why these rules (FACT-JACIE immune effector cell standards, chain of custody and bedside check,
summarised in shared/reference/isbt128-and-platforms.md §3.1; 21 CFR 11.10(f) operational checks
that enforce the permitted sequence of steps): every transfer is documented, identity is verified
at each hand-off, and the product is checked by two trained persons before administration. We
also ask two persons at receipt of the final product at the center (the brief; FACT asks for
receipt inspection).

`judge_scan` decides one scan; the first failed rule wins, in this order: check character,
chain of identity of another episode, no DIN, unknown container, another episode's container,
already recorded at this step (accepted, idempotent), consumed or discarded, quarantined, not the
container's next step, then `cartflow.identity.scan.verify_scan` (product code, expiry).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from cartflow.audit.signatures import IDENTITY_VERIFIED_AT_BEDSIDE, RECEIVED_AND_VERIFIED
from cartflow.i18n import Message, _
from cartflow.identity.isbt128 import ChainOfIdentityId
from cartflow.identity.scan import (
    ExpectedContainer,
    Scan,
    ScanRule,
    check_character_rule,
    verify_scan,
)
from cartflow.logistics.labels import step_in_text
from cartflow.models import EpisodeState, Role
from cartflow.models.custody import ContainerKind, ContainerStatus, CustodianKind, HandoffStep
from cartflow.models.logistics_shipment import ShipmentMaterial

OWNER: Final = "custody"
"""The name under which this domain moves the episode (`Transition.owner`)."""

S = EpisodeState
H = HandoffStep
K = ContainerKind
CENTER_STAFF = frozenset({Role.COORDINATOR, Role.APHERESIS_NURSE, Role.CLINICIAN})
SITE_OPERATORS = frozenset({Role.PLANNER, Role.QC_ANALYST})


class CustodyRule(StrEnum):
    """Hard stops decided from the records (the identity rules are `ScanRule`)."""

    UNKNOWN_CONTAINER = "CUSTODY-UNKNOWN-CONTAINER"
    CONSUMED = "CUSTODY-CONTAINER-CONSUMED"
    QUARANTINED = "CUSTODY-QUARANTINED"
    OUT_OF_SEQUENCE = "CUSTODY-OUT-OF-SEQUENCE"


KIND_LABELS: Final[Mapping[ContainerKind, Message]] = MappingProxyType(
    {
        K.COLLECTION_BAG: _("collection bag"),
        K.PRODUCT_BAG: _("product bag"),
        K.CASSETTE: _("cassette"),
        K.SHIPPER: _("shipper"),
    }
)
"""What people call each kind of container (the enum value stays the machine's name)."""

STATUS_LABELS: Final[Mapping[ContainerStatus, Message]] = MappingProxyType(
    {
        ContainerStatus.IN_USE: _("in use"),
        ContainerStatus.CONSUMED: _("consumed"),
        ContainerStatus.QUARANTINED: _("quarantined"),
        ContainerStatus.DISCARDED: _("discarded"),
    }
)


class ShipmentLeg(StrEnum):
    PICKUP = "pickup"
    RECEIPT = "receipt"


@dataclass(frozen=True)
class StepRule:
    step: HandoffStep
    to: CustodianKind
    roles: frozenset[Role]
    episode_states: frozenset[EpisodeState]
    description: Message
    two_person: bool = False
    witness_meaning: str | None = None
    transition: str | None = None
    shipment_leg: ShipmentLeg | None = None
    materials: frozenset[ShipmentMaterial] = frozenset()
    consumes: bool = False


_APHERESIS = frozenset({ShipmentMaterial.FRESH_APHERESIS, ShipmentMaterial.CRYOPRESERVED_APHERESIS})
_PRODUCT = frozenset({ShipmentMaterial.CRYOPRESERVED_PRODUCT})

STEPS: Final[Mapping[HandoffStep, StepRule]] = MappingProxyType(
    {
        rule.step: rule
        for rule in (
            StepRule(
                H.COLLECTION,
                CustodianKind.CENTER,
                frozenset({Role.APHERESIS_NURSE}),
                frozenset({S.SLOT_BOOKED, S.APHERESIS_COLLECTED}),
                _("The nurse scans the labelled collection bag at the end of apheresis."),
                transition="record_apheresis",
            ),
            StepRule(
                H.APHERESIS_PICKUP,
                CustodianKind.COURIER,
                frozenset({Role.COURIER}),
                frozenset({S.APHERESIS_COLLECTED}),
                _("The courier takes the collection bags from the center."),
                shipment_leg=ShipmentLeg.PICKUP,
                materials=_APHERESIS,
            ),
            StepRule(
                H.SITE_RECEIPT,
                CustodianKind.SITE,
                SITE_OPERATORS,
                frozenset({S.APHERESIS_COLLECTED}),
                _("The manufacturing site receives the collection bags."),
                shipment_leg=ShipmentLeg.RECEIPT,
                materials=_APHERESIS,
            ),
            StepRule(
                H.CRYOPRESERVATION,
                CustodianKind.SITE,
                SITE_OPERATORS,
                frozenset({S.IN_MANUFACTURING, S.QC}),
                _(
                    "The filled product bags and cassettes go into the site's cryostore; the "
                    "collection bags the batch used are consumed."
                ),
            ),
            StepRule(
                H.RELEASE,
                CustodianKind.SITE,
                frozenset({Role.QUALIFIED_PERSON}),
                frozenset({S.RELEASED}),
                _("The qualified person's released product is scanned out of quarantine storage."),
            ),
            StepRule(
                H.PRODUCT_PICKUP,
                CustodianKind.COURIER,
                frozenset({Role.COURIER}),
                frozenset({S.RELEASED}),
                _("The courier takes the product bags, cassettes and the dry shipper."),
                transition="ship",
                shipment_leg=ShipmentLeg.PICKUP,
                materials=_PRODUCT,
            ),
            StepRule(
                H.CENTER_RECEIPT,
                CustodianKind.CENTER,
                CENTER_STAFF,
                frozenset({S.SHIPPED}),
                _("Two people at the center receive the shipper and verify the product."),
                two_person=True,
                witness_meaning=RECEIVED_AND_VERIFIED,
                transition="receive",
                shipment_leg=ShipmentLeg.RECEIPT,
                materials=_PRODUCT,
            ),
            StepRule(
                H.STORAGE,
                CustodianKind.CENTER,
                CENTER_STAFF,
                frozenset({S.RECEIVED, S.LYMPHODEPLETION}),
                _("The center stores the product in its own LN2 storage until infusion."),
            ),
            StepRule(
                H.BEDSIDE,
                CustodianKind.PATIENT,
                frozenset({Role.CLINICIAN, Role.APHERESIS_NURSE}),
                frozenset({S.LYMPHODEPLETION}),
                _(
                    "Two people verify patient and product identity at the bedside; "
                    "the bag is used."
                ),
                two_person=True,
                witness_meaning=IDENTITY_VERIFIED_AT_BEDSIDE,
                consumes=True,
            ),
        )
    }
)

CONTAINER_PATHS: Final[Mapping[ContainerKind, tuple[HandoffStep, ...]]] = MappingProxyType(
    {
        K.COLLECTION_BAG: (H.COLLECTION, H.APHERESIS_PICKUP, H.SITE_RECEIPT),
        K.PRODUCT_BAG: (
            H.CRYOPRESERVATION,
            H.RELEASE,
            H.PRODUCT_PICKUP,
            H.CENTER_RECEIPT,
            H.STORAGE,
            H.BEDSIDE,
        ),
        K.CASSETTE: (H.CRYOPRESERVATION, H.RELEASE, H.PRODUCT_PICKUP, H.CENTER_RECEIPT, H.STORAGE),
        K.SHIPPER: (H.PRODUCT_PICKUP, H.CENTER_RECEIPT),
    }
)
"""The steps each kind of container takes, in order. A shipper is scanned only in transit."""

# Who labels (registers) each kind of container: the center before apheresis, the site at fill.
REGISTRARS: Final[Mapping[ContainerKind, frozenset[Role]]] = MappingProxyType(
    {
        K.COLLECTION_BAG: frozenset({Role.APHERESIS_NURSE, Role.COORDINATOR}),
        K.PRODUCT_BAG: SITE_OPERATORS,
        K.CASSETTE: SITE_OPERATORS,
        K.SHIPPER: SITE_OPERATORS | {Role.COURIER},
    }
)


def next_step(kind: ContainerKind, last_step: HandoffStep | None) -> HandoffStep | None:
    """The hand-off a container is expected at next; None when its path is complete."""
    path = CONTAINER_PATHS[kind]
    if last_step is None:
        return path[0]
    index = path.index(last_step) + 1 if last_step in path else len(path)
    return path[index] if index < len(path) else None


def kinds_at(step: HandoffStep) -> frozenset[ContainerKind]:
    return frozenset(kind for kind, path in CONTAINER_PATHS.items() if step in path)


@dataclass(frozen=True)
class ContainerFacts:
    """What the records say about the container a scan named."""

    id: uuid.UUID
    episode_id: uuid.UUID
    kind: ContainerKind
    status: ContainerStatus
    last_step: HandoffStep | None
    done_steps: frozenset[HandoffStep]
    expected: ExpectedContainer


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    rule: str | None
    message: Message
    duplicate: bool = False


def _refuse(rule: StrEnum, message: Message) -> Verdict:
    return Verdict(False, rule.value, message)


def judge_scan(
    scan: Scan,
    *,
    step: HandoffStep,
    episode_id: uuid.UUID,
    episode_coi: ChainOfIdentityId,
    container: ContainerFacts | None,
    now: dt.datetime,
) -> Verdict:
    """Decide one scan at `step` of the expected episode; see the module docstring for the order."""
    if (wrong_k := check_character_rule(scan)) is not None:
        return Verdict(False, wrong_k.rule.value if wrong_k.rule else None, wrong_k.message)
    if scan.coi is not None and scan.coi != episode_coi:
        return _refuse(
            ScanRule.WRONG_EPISODE,
            _(
                "COI {scanned} is not this episode's ({expected}); "
                "stop: this container belongs to another patient",
                scanned=scan.coi.eye_readable,
                expected=episode_coi.eye_readable,
            ),
        )
    if scan.din is None:
        return _refuse(
            ScanRule.NOT_IDENTIFIED,
            _("the scan has no DIN; scan the container's DIN bar code or its Data Matrix"),
        )
    if container is None:
        return _refuse(
            CustodyRule.UNKNOWN_CONTAINER,
            _(
                "DIN {din} is not a registered container; stop and check the label",
                din=scan.din.eye_readable,
            ),
        )
    if container.episode_id != episode_id:
        return _refuse(
            ScanRule.WRONG_EPISODE,
            _(
                "DIN {din} belongs to another episode, not to COI {coi}; "
                "stop: this container belongs to another patient",
                din=scan.din.eye_readable,
                coi=episode_coi.eye_readable,
            ),
        )
    if step in container.done_steps:
        return Verdict(
            True, None, _("already recorded at {step}", step=step_in_text(step)), duplicate=True
        )
    if container.status in (ContainerStatus.CONSUMED, ContainerStatus.DISCARDED):
        return _refuse(
            CustodyRule.CONSUMED,
            _(
                "DIN {din} is {status}; it cannot be handed on",
                din=scan.din.eye_readable,
                status=STATUS_LABELS[container.status],
            ),
        )
    if container.status is ContainerStatus.QUARANTINED:
        return _refuse(
            CustodyRule.QUARANTINED,
            _(
                "DIN {din} is in quarantine until a qualified person decides",
                din=scan.din.eye_readable,
            ),
        )
    expected_step = next_step(container.kind, container.last_step)
    if expected_step is not step:
        where = expected_step.value if expected_step else _("no further hand-off")
        return _refuse(
            CustodyRule.OUT_OF_SEQUENCE,
            _(
                "DIN {din} is a {kind} whose next hand-off is {expected}, not {step}",
                din=scan.din.eye_readable,
                kind=KIND_LABELS[container.kind],
                expected=where,
                step=step_in_text(step),
            ),
        )
    decision = verify_scan(container.expected, scan, now=now)
    if not decision.accepted:
        return Verdict(False, decision.rule.value if decision.rule else None, decision.message)
    return Verdict(True, None, decision.message)
