"""The hand-off rules as data and the judgement of one scan (pure, no database)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import replace

import pytest

from cartflow.episodes.workflow import TRANSITIONS
from cartflow.identity.isbt128 import ChainOfIdentityId, Din, ProductCode
from cartflow.identity.scan import ExpectedContainer, expiry_barcode_data, parse_scan
from cartflow.logistics.workflow import (
    CONTAINER_PATHS,
    OWNER,
    STEPS,
    ContainerFacts,
    judge_scan,
    kinds_at,
    next_step,
)
from cartflow.models.custody import ContainerKind, ContainerStatus, HandoffStep

H = HandoffStep
K = ContainerKind
NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
COI = ChainOfIdentityId.parse("CHA999926000042")
OTHER_COI = ChainOfIdentityId.parse("CHA999926000043")
DIN = Din.parse("A9999 26 000101")
CODE = ProductCode("S1234000")
EPISODE = uuid.uuid4()
EXPIRES = NOW + dt.timedelta(days=30)


def facts(**changes: object) -> ContainerFacts:
    base = ContainerFacts(
        id=uuid.uuid4(),
        episode_id=EPISODE,
        kind=K.PRODUCT_BAG,
        status=ContainerStatus.IN_USE,
        last_step=H.RELEASE,
        done_steps=frozenset({H.CRYOPRESERVATION, H.RELEASE}),
        expected=ExpectedContainer(coi=COI, din=DIN, product_code=CODE, expires_at=EXPIRES),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def judge(raw: str, container: ContainerFacts | None = None, step: H = H.PRODUCT_PICKUP) -> str:
    verdict = judge_scan(
        parse_scan(raw),
        step=step,
        episode_id=EPISODE,
        episode_coi=COI,
        container=container if container is not None else facts(),
        now=NOW,
    )
    if verdict.duplicate:
        return "duplicate"
    return "accepted" if verdict.accepted else str(verdict.rule)


LABEL = DIN.barcode_data() + CODE.barcode_data() + expiry_barcode_data(EXPIRES, dt.UTC)


def test_the_right_label_is_accepted_whole_or_by_din_alone() -> None:
    assert judge(LABEL + COI.barcode_data()) == "accepted"
    assert judge(DIN.barcode_data()) == "accepted"
    assert judge(f"{DIN.eye_readable} {DIN.check_character}") == "accepted"
    assert judge(DIN.barcode_data(DIN.type3_flags)) == "accepted"


@pytest.mark.parametrize(
    ("raw", "container", "rule"),
    [
        # ST-001 §7.5: a typed check character that does not match is re-read, not looked up.
        ("A9999 26 000101 *", None, "SCAN-CHECK-CHARACTER"),
        # App. A.2: Type 3 flags carry the checksum; one off is a misread.
        (f"=A999926000101{int(DIN.type3_flags) + 1}", None, "SCAN-CHECK-CHARACTER"),
        (LABEL + OTHER_COI.barcode_data(), None, "SCAN-WRONG-EPISODE"),
        (COI.barcode_data(), None, "SCAN-NOT-IDENTIFIED"),
        (DIN.barcode_data(), "unknown", "CUSTODY-UNKNOWN-CONTAINER"),
        (DIN.barcode_data(), facts(episode_id=uuid.uuid4()), "SCAN-WRONG-EPISODE"),
        (DIN.barcode_data(), facts(status=ContainerStatus.CONSUMED), "CUSTODY-CONTAINER-CONSUMED"),
        (DIN.barcode_data(), facts(status=ContainerStatus.DISCARDED), "CUSTODY-CONTAINER-CONSUMED"),
        (DIN.barcode_data(), facts(status=ContainerStatus.QUARANTINED), "CUSTODY-QUARANTINED"),
        (DIN.barcode_data(), facts(last_step=H.CRYOPRESERVATION), "CUSTODY-OUT-OF-SEQUENCE"),
        (DIN.barcode_data(), facts(kind=K.COLLECTION_BAG), "CUSTODY-OUT-OF-SEQUENCE"),
        (DIN.barcode_data() + "=<S9999000", None, "SCAN-PRODUCT-CODE"),
        (
            DIN.barcode_data(),
            facts(expected=ExpectedContainer(coi=COI, din=DIN, expires_at=NOW)),
            "SCAN-EXPIRED",
        ),
    ],
)
def test_each_hard_stop_names_its_rule(raw: str, container: object, rule: str) -> None:
    if container == "unknown":
        verdict = judge_scan(
            parse_scan(raw),
            step=H.PRODUCT_PICKUP,
            episode_id=EPISODE,
            episode_coi=COI,
            container=None,
            now=NOW,
        )
        assert verdict.rule == rule
        return
    assert isinstance(container, ContainerFacts | None)
    assert judge(raw, container) == rule


def test_a_step_already_taken_is_a_duplicate_even_after_a_later_one() -> None:
    later = facts(last_step=H.CENTER_RECEIPT, done_steps=frozenset(CONTAINER_PATHS[K.PRODUCT_BAG]))
    assert judge(DIN.barcode_data(), later, step=H.PRODUCT_PICKUP) == "duplicate"


def test_paths_follow_the_vein_to_vein_order() -> None:
    order = list(HandoffStep)
    for kind, path in CONTAINER_PATHS.items():
        assert [order.index(s) for s in path] == sorted(order.index(s) for s in path), kind
        assert next_step(kind, None) is path[0]
        assert next_step(kind, path[-1]) is None
        for before, after in itertools.pairwise(path):
            assert next_step(kind, before) is after
    assert kinds_at(H.PRODUCT_PICKUP) == {K.PRODUCT_BAG, K.CASSETTE, K.SHIPPER}
    assert kinds_at(H.BEDSIDE) == {K.PRODUCT_BAG}


def test_every_step_is_reachable_and_its_transition_is_owned_by_custody() -> None:
    assert set(STEPS) == set(HandoffStep)
    for rule in STEPS.values():
        assert kinds_at(rule.step), rule.step
        assert rule.two_person == (rule.witness_meaning is not None)
        if rule.transition is not None:
            transition = TRANSITIONS[rule.transition]
            assert transition.owner == OWNER
            # apply_transition checks the transition's roles: every scanner must hold one.
            assert rule.roles <= transition.roles, rule.step
            assert transition.sources & rule.episode_states
    assert {r.step for r in STEPS.values() if r.two_person} == {H.CENTER_RECEIPT, H.BEDSIDE}
