"""The steps of one hand-off: reading the scans, judging them against the records, opening a
deviation for a refused scan, and writing the custody event of an accepted one.

`service.record_handoff` orchestrates these (locking, roles, the second person, the episode's
transition); nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import diff, record_event
from cartflow.auth.actor import Actor
from cartflow.errors import Conflict
from cartflow.i18n import SOURCE_LOCALE, _
from cartflow.identity.errors import MalformedScan
from cartflow.identity.isbt128 import ChainOfIdentityId
from cartflow.identity.scan import Scan, parse_scan
from cartflow.logistics.containers import container_snapshot, expected_container
from cartflow.logistics.workflow import ContainerFacts, StepRule, Verdict, judge_scan
from cartflow.models import Episode
from cartflow.models.custody import (
    ContainerStatus,
    CustodianKind,
    CustodyContainer,
    CustodyDeviation,
    CustodyEvent,
    DeviationStatus,
    HandoffStep,
)
from cartflow.models.logistics_shipment import Shipment


def parse_scans(scans: Sequence[str]) -> list[Scan]:
    parsed = []
    for index, raw in enumerate(scans):
        try:
            parsed.append(parse_scan(raw))
        except MalformedScan as error:
            raise MalformedScan(
                _("scan {number}: {reason}", number=index + 1, reason=error.args[0]),
                field="scans",
            ) from None
    return parsed


def judge_scans(
    session: Session, *, episode: Episode, step: HandoffStep, scans: list[Scan], now: dt.datetime
) -> list[tuple[Scan, CustodyContainer | None, Verdict]]:
    if episode.chain_of_identity is None:
        raise Conflict(_("the episode has no chain of identity identifier"), code="APH-001")
    coi = ChainOfIdentityId.parse(episode.chain_of_identity)
    judged: list[tuple[Scan, CustodyContainer | None, Verdict]] = []
    seen: set[uuid.UUID] = set()
    for scan in scans:
        container = None
        if scan.din is not None:
            container = session.execute(
                select(CustodyContainer).where(CustodyContainer.din == scan.din.value)
            ).scalar_one_or_none()
        facts = None
        if container is not None:
            done = session.execute(
                select(CustodyEvent.step).where(CustodyEvent.container_id == container.id)
            ).scalars()
            facts = ContainerFacts(
                id=container.id,
                episode_id=container.episode_id,
                kind=container.kind,
                status=container.status,
                last_step=container.last_step,
                done_steps=frozenset(done),
                expected=expected_container(container),
            )
        verdict = judge_scan(
            scan, step=step, episode_id=episode.id, episode_coi=coi, container=facts, now=now
        )
        if container is not None and verdict.accepted and container.id in seen:
            verdict = Verdict(True, None, _("scanned twice in this hand-off"), duplicate=True)
        if container is not None:
            seen.add(container.id)
        judged.append((scan, container, verdict))
    return judged


def open_deviation(
    session: Session,
    *,
    actor: Actor,
    episode: Episode,
    step: HandoffStep,
    scan: Scan,
    container: CustodyContainer | None,
    verdict: Verdict,
    location: str,
    now: dt.datetime,
) -> CustodyDeviation:
    # The record is kept in the source language whoever reads it later: it is shared by the
    # center, the site and reviewers abroad, and the rule code names it in every language.
    recorded = verdict.message.render(SOURCE_LOCALE)
    deviation = CustodyDeviation(
        episode_id=episode.id,
        step=step,
        rule=verdict.rule or "SCAN-REFUSED",
        message=recorded,
        raw_scan=scan.raw,
        scanned_container_id=container.id if container is not None else None,
        location=location,
        occurred_at=now,
        reported_by_id=actor.id,
        status=DeviationStatus.OPEN,
    )
    session.add(deviation)
    session.flush()
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="custody_deviation",
        record_id=deviation.id,
        action="open",
        after=snapshot(deviation),
        reason=recorded,
        occurred_at=now,
    )
    return deviation


@dataclass(frozen=True)
class Move:
    """What one hand-off request records, shared by its scans."""

    actor: Actor
    episode: Episode
    rule: StepRule
    handoff_id: uuid.UUID
    location: str
    temperature_c: float | None
    shipment: Shipment | None
    witness: Actor | None
    now: dt.datetime


def existing_event(
    session: Session, container: CustodyContainer, step: HandoffStep
) -> CustodyEvent:
    return session.execute(
        select(CustodyEvent).where(
            CustodyEvent.container_id == container.id, CustodyEvent.step == step
        )
    ).scalar_one()


def record_move(
    session: Session, move: Move, scan: Scan, container: CustodyContainer
) -> tuple[CustodyEvent, bool]:
    """Write one custody event and move the container; (event, False) if it already existed."""
    rule, episode = move.rule, move.episode
    to_center = episode.center_id if rule.to is CustodianKind.CENTER else None
    to_site = episode.manufacturing_site_id if rule.to is CustodianKind.SITE else None
    to_user = move.actor.id if rule.to is CustodianKind.COURIER else None
    event = CustodyEvent(
        episode_id=episode.id,
        container_id=container.id,
        handoff_id=move.handoff_id,
        step=rule.step,
        from_kind=container.custodian_kind,
        from_center_id=container.custodian_center_id,
        from_site_id=container.custodian_site_id,
        from_user_id=container.custodian_user_id,
        to_kind=rule.to,
        to_center_id=to_center,
        to_site_id=to_site,
        to_user_id=to_user,
        occurred_at=move.now,
        scanned_by_id=move.actor.id,
        witness_id=move.witness.id if move.witness else None,
        location=move.location,
        temperature_c=move.temperature_c,
        raw_scan=scan.raw,
        entry=scan.entry,
        shipment_id=move.shipment.id if move.shipment else None,
    )
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        # A concurrent scan of the same container at the same step won the race.
        return existing_event(session, container, rule.step), False
    before = container_snapshot(container)
    container.custodian_kind = rule.to
    container.custodian_center_id = to_center
    container.custodian_site_id = to_site
    container.custodian_user_id = to_user
    container.location = move.location
    container.last_step = rule.step
    container.last_event_at = move.now
    if rule.consumes:
        container.status = ContainerStatus.CONSUMED
        container.status_reason = "used at the bedside after the two-person identity check"
    session.flush()
    old, new = diff(before, container_snapshot(container))
    record_event(
        session,
        actor=move.actor.as_audit_actor(),
        record_type="container",
        record_id=container.id,
        action=rule.step.value,
        before=old,
        after={
            **new,
            "custody_event_id": event.id,
            "raw_scan": scan.raw,
            "entry": scan.entry,
            "location": move.location,
            "temperature_c": move.temperature_c,
            "witness": move.witness.user.username if move.witness else None,
            "shipment_id": event.shipment_id,
        },
        occurred_at=move.now,
    )
    return event, True


def handoff_content(events: Sequence[CustodyEvent]) -> dict[str, Any]:
    """What the second person signs: every custody event of the hand-off, as recorded."""
    rows = [snapshot(e, exclude=frozenset({"witness_signature_id"})) for e in events]
    return {"events": sorted(rows, key=lambda row: str(row["container_id"]))}
