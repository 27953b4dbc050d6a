"""Property (hypothesis): a random scan never matches another episode, through the service.

Episode A is at collection with two labelled bags; episode B, at the same center, has two bags
of its own. Whatever is scanned at A's collection (B's labels whole, B's DIN under A's chain of
identity, A's DIN under a random chain of identity, random DINs of the same FIN with their right
check character, A's label with one character changed, arbitrary text), the hand-off is accepted
only when the scan names one of A's own bags and no other chain of identity; A's own labels are
always accepted.
"""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from cartflow.errors import CartflowError
from cartflow.identity.isbt128 import ChainOfIdentityId, Din
from cartflow.identity.scan import parse_scan
from cartflow.logistics.service import record_handoff
from cartflow.models import EpisodeState
from cartflow.models.custody import CustodyContainer, HandoffStep
from tests.factories import make_episode
from tests.logistics.factories import K, barcode, keyed, make_world, register

DIGITS = "0123456789"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@st.composite
def scans(
    draw: st.DrawFn, a: list[CustodyContainer], b: list[CustodyContainer], coi_a: str
) -> tuple[str, str]:
    """(kind, raw) where kind says how the scan was made."""
    kind = draw(
        st.sampled_from(
            [
                "a-label",
                "b-label",
                "b-din-a-coi",
                "b-keyed",
                "a-din-random-coi",
                "random-din",
                "mutated-a",
                "text",
            ]
        )
    )
    if kind == "a-label":
        return kind, barcode(draw(st.sampled_from(a)))
    if kind == "b-label":
        return kind, barcode(draw(st.sampled_from(b)))
    if kind == "b-din-a-coi":
        return kind, barcode(draw(st.sampled_from(b)), coi=coi_a)
    if kind == "b-keyed":
        return kind, keyed(draw(st.sampled_from(b)))
    if kind == "a-din-random-coi":
        sequence = draw(st.text(ALNUM, min_size=6, max_size=6))
        coi = ChainOfIdentityId(coi_a[2:7], coi_a[7:9], sequence)
        return kind, barcode(draw(st.sampled_from(a)), coi=coi.value)
    if kind == "random-din":
        din = Din.parse(a[0].din)
        other = Din(din.fin, din.year, draw(st.text(DIGITS, min_size=6, max_size=6)))
        entry = draw(st.sampled_from(["barcode", "keyed", "flags"]))
        if entry == "barcode":
            return kind, other.barcode_data()
        if entry == "flags":
            return kind, other.barcode_data(other.type3_flags)
        return kind, f"{other.eye_readable} {other.check_character}"
    if kind == "mutated-a":
        raw = barcode(draw(st.sampled_from(a)))
        index = draw(st.integers(0, len(raw) - 1))
        char = draw(st.sampled_from("=&<>/" + ALNUM))
        assume(char != raw[index])
        return kind, raw[:index] + char + raw[index + 1 :]
    return kind, draw(st.text(min_size=1, max_size=60))


def test_a_random_scan_never_matches_another_episode(session: Session, unique: str) -> None:
    world = make_world(session, unique)
    nurse = world.people.nurse
    episode_b = make_episode(session, world.net, state=EpisodeState.SLOT_BOOKED)
    bags_a = register(session, nurse, world.episode, K.COLLECTION_BAG, 2)
    bags_b = register(session, nurse, episode_b, K.COLLECTION_BAG, 2)
    episode_a_id = world.episode.id
    assert world.episode.chain_of_identity is not None
    coi_a = world.episode.chain_of_identity
    dins_a = {c.din for c in bags_a}
    dins_b = {c.din for c in bags_b}
    seen: set[str] = set()

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(scans(bags_a, bags_b, coi_a))
    def check(drawn: tuple[str, str]) -> None:
        kind, raw = drawn
        seen.add(kind)
        attempt = session.begin_nested()
        try:
            try:
                outcome = record_handoff(
                    session,
                    actor=nurse,
                    episode_id=episode_a_id,
                    step=HandoffStep.COLLECTION,
                    scans=[raw],
                )
            except CartflowError:
                return  # malformed: refused before any container is looked at
            read = parse_scan(raw)
            if read.din is not None and read.din.value in dins_b:
                assert not outcome.accepted, raw
            if outcome.accepted:
                assert read.din is not None and read.din.value in dins_a, raw
                assert read.coi is None or read.coi.value == coi_a, raw
                assert {e.episode_id for e in outcome.events} == {episode_a_id}
            else:
                assert outcome.events == [] and len(outcome.deviations) == 1
            if kind == "a-label":
                assert outcome.accepted, outcome.refusal
            foreign_coi = read.coi is not None and read.coi.value != coi_a
            if kind.startswith("b-") or foreign_coi:
                assert not outcome.accepted, raw
        finally:
            attempt.rollback()

    check()
    assert {"a-label", "b-label", "b-din-a-coi", "random-din"} <= seen
