"""Scenario: the two-person steps (receipt of the final product, bedside) refuse one person twice.

- The coordinator scans the receipt and names themself as the second person: refused
  (CUSTODY-SAME-PERSON), nothing recorded.
- Without a second person: refused (CUSTODY-TWO-PERSON).
- A second person whose password is wrong: refused (403), nothing recorded, no deviation.
- A second person without a role for the step (a site planner): refused (403).
- A real second person: recorded, with the second person's electronic signature.
- At the bedside the same rules hold.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.audit.signatures import IDENTITY_VERIFIED_AT_BEDSIDE, SignatureRefused
from cartflow.auth.errors import RoleRequired
from cartflow.logistics.errors import SamePerson, SecondPersonRequired
from cartflow.logistics.service import Witness, record_handoff
from cartflow.models import ElectronicSignature
from cartflow.models.custody import CustodyDeviation, CustodyEvent, HandoffStep
from tests.logistics.factories import advance, barcode, make_world, move, scan

H = HandoffStep


def _count(session: Session, model: type[CustodyEvent] | type[CustodyDeviation]) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_two_person_steps_refuse_one_person_twice(session: Session, unique: str) -> None:
    world = make_world(session, unique)
    people, episode = world.people, world.episode
    kit = advance(session, people, episode, H.PRODUCT_PICKUP)
    scans = [barcode(c) for c in (*kit.product, *kit.shippers)]
    events, deviations = _count(session, CustodyEvent), _count(session, CustodyDeviation)

    with pytest.raises(SamePerson):
        scan(
            session,
            people.coordinator,
            episode,
            H.CENTER_RECEIPT,
            *scans,
            second=people.coordinator,
        )
    with pytest.raises(SecondPersonRequired):
        scan(session, people.coordinator, episode, H.CENTER_RECEIPT, *scans)
    # The request's unit of work ends with the refusal: here, a savepoint stands in for it.
    request = session.begin_nested()
    with pytest.raises(SignatureRefused):
        record_handoff(
            session,
            actor=people.coordinator,
            episode_id=episode.id,
            step=H.CENTER_RECEIPT,
            scans=scans,
            witness=Witness(people.clinician.user.username, "not-the-password"),
        )
    request.rollback()
    with pytest.raises(RoleRequired):
        scan(session, people.coordinator, episode, H.CENTER_RECEIPT, *scans, second=people.planner)
    assert (_count(session, CustodyEvent), _count(session, CustodyDeviation)) == (
        events,
        deviations,
    )

    received = scan(
        session, people.coordinator, episode, H.CENTER_RECEIPT, *scans, second=people.clinician
    )
    assert received.refusal is None and received.transition == "receive"

    scan(session, people.nurse, episode, H.STORAGE, *[barcode(c) for c in kit.product])
    move(session, people, episode, "start_lymphodepletion")
    bag = barcode(kit.product_bags[0])
    with pytest.raises(SamePerson):
        scan(session, people.clinician, episode, H.BEDSIDE, bag, second=people.clinician)
    bedside = scan(session, people.clinician, episode, H.BEDSIDE, bag, second=people.nurse)
    assert bedside.refusal is None
    [event] = bedside.events
    assert (event.scanned_by_id, event.witness_id) == (people.clinician.id, people.nurse.id)
    signature = session.get(ElectronicSignature, event.witness_signature_id)
    assert signature is not None
    assert signature.meaning == IDENTITY_VERIFIED_AT_BEDSIDE
    assert signature.signer_printed_name == people.nurse.user.full_name
