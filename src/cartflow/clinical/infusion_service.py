"""The bedside identity check (two people, before thaw) and the infusion record.

1. The first person scans the product bag and the patient's wristband and signs "Identity verified
   at bedside" with their password: a bedside check awaiting its second person.
2. A different person scans both again and signs: the check is verified. The database refuses the
   same person twice (check constraint) as does the service (`BEDSIDE-SAME-PERSON`).
3. A clinician records thaw, start and end of infusion and the dose against the verified check;
   the episode moves to infused.
Any mismatch (wrong bag, wrong wristband, expired product) is a hard stop: a 409 naming the rule,
and nothing is written. A wrong password writes nothing either (signing checks it before any write).
Each signature covers exactly what its signer saw: the first the first reads, the second the whole
check; `bedside_check_out` re-verifies both on every read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.audit.signatures import (
    IDENTITY_VERIFIED_AT_BEDSIDE,
    sign,
    signatures_for,
    verify_signature,
)
from cartflow.auth.actor import Actor
from cartflow.clinical.bedside import check_bag, check_second_person, check_wristband
from cartflow.clinical.errors import (
    BedsideCheckRefused,
    ClinicalRecordNotFound,
    ClinicalRuleRefused,
    denied,
)
from cartflow.clinical.lymphodepletion_service import current_plan
from cartflow.clinical.schemas import BedsideCheckOut, BedsideScanIn, InfusionIn, SignatureOut
from cartflow.clinical.service import (
    BEDSIDE_CHECKERS,
    CLINICAL_READERS,
    CLINICIANS,
    audit,
    clinical_episode,
    infusion_of,
    move_episode,
)
from cartflow.clinical.workflow import (
    InfusionFacts,
    InfusionTimes,
    guard_infusion,
    thaw_window_exceeded,
)
from cartflow.db.base import utcnow
from cartflow.episodes.workflow import Denied
from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.i18n.labels import state_in_text
from cartflow.models import Episode, EpisodeState, User
from cartflow.models.clinical_infusion import BedsideCheck, BedsideCheckStatus, Infusion

RECORD_TYPE = "bedside_check"
CLOCK_TOLERANCE = dt.timedelta(minutes=5)


def first_signed_content(check: BedsideCheck) -> dict[str, Any]:
    return {
        "episode_id": check.episode_id,
        "chain_of_identity": check.chain_of_identity,
        "scanner_id": check.first_scanner_id,
        "bag_scan": check.first_bag_scan,
        "wristband_scan": check.first_wristband_scan,
        "scanned_at": check.first_scanned_at,
    }


def second_signed_content(check: BedsideCheck) -> dict[str, Any]:
    return {
        **first_signed_content(check),
        "second_scanner_id": check.second_scanner_id,
        "second_bag_scan": check.second_bag_scan,
        "second_wristband_scan": check.second_wristband_scan,
        "second_scanned_at": check.second_scanned_at,
    }


def _refuse(decision: Denied) -> BedsideCheckRefused:
    return BedsideCheckRefused(f"{decision.code}: {decision.message}", code=decision.code)


def _verify_reads(episode: Episode, data: BedsideScanIn, moment: dt.datetime) -> None:
    if episode.state is not EpisodeState.LYMPHODEPLETION:
        raise _refuse(
            denied(
                "BEDSIDE-STATE",
                _(
                    "the bedside check is made on infusion day; the episode is {state}",
                    state=state_in_text(episode.state),
                ),
            )
        )
    coi = episode.chain_of_identity
    if coi is None:
        raise _refuse(denied("BEDSIDE-NO-COI", _("the episode has no chain of identity")))
    _bag_scan, bag = check_bag(
        data.bag_scan, coi=coi, isbt_product_code=episode.product.isbt_product_code, now=moment
    )
    if isinstance(bag, Denied):
        raise _refuse(bag)
    _band_scan, band = check_wristband(
        data.wristband_scan, pseudonym=episode.patient.pseudonym, coi=coi, now=moment
    )
    if isinstance(band, Denied):
        raise _refuse(band)


def start_bedside_check(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    data: BedsideScanIn,
    now: dt.datetime | None = None,
) -> BedsideCheck:
    """The first person's reads and signature."""
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=episode_id,
        roles=BEDSIDE_CHECKERS,
        action=_("the bedside identity check"),
        lock=True,
    )
    moment = data.scanned_at or now or utcnow()
    _verify_reads(episode, data, moment)
    assert episode.chain_of_identity is not None  # checked by _verify_reads
    check = BedsideCheck(
        id=uuid.uuid4(),
        episode_id=episode.id,
        chain_of_identity=episode.chain_of_identity,
        status=BedsideCheckStatus.AWAITING_SECOND,
        first_scanner_id=actor.id,
        first_bag_scan=data.bag_scan.strip(),
        first_wristband_scan=data.wristband_scan.strip(),
        first_scanned_at=moment,
    )
    # Signing checks the password before it writes anything, so a wrong password leaves no trace.
    sign(
        session,
        actor=actor,
        password=data.password.get_secret_value(),
        meaning=IDENTITY_VERIFIED_AT_BEDSIDE,
        record_type=RECORD_TYPE,
        record_id=check.id,
        record_content=first_signed_content(check),
    )
    session.add(check)
    audit(session, actor=actor, record_type=RECORD_TYPE, record=check, action="first_scan")
    return check


def _check_in_scope(
    session: Session, *, actor: Actor, check_id: uuid.UUID, roles: frozenset[Any], lock: bool
) -> tuple[BedsideCheck, Episode]:
    check = session.get(BedsideCheck, check_id)
    if check is None:
        raise ClinicalRecordNotFound(_("no bedside check {id}", id=str(check_id)))
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=check.episode_id,
        roles=roles,
        action=_("the bedside identity check"),
        lock=lock,
    )
    return check, episode


def confirm_bedside_check(
    session: Session,
    *,
    actor: Actor,
    check_id: uuid.UUID,
    data: BedsideScanIn,
    now: dt.datetime | None = None,
) -> BedsideCheck:
    """The second person's reads and signature: a different person, the same episode."""
    check, episode = _check_in_scope(
        session, actor=actor, check_id=check_id, roles=BEDSIDE_CHECKERS, lock=True
    )
    if check.status is not BedsideCheckStatus.AWAITING_SECOND:
        raise _refuse(denied("BEDSIDE-ALREADY-VERIFIED", _("this check is already verified")))
    person = check_second_person(check.first_scanner_id, actor.id)
    if isinstance(person, Denied):
        raise _refuse(person)
    moment = data.scanned_at or now or utcnow()
    if moment < check.first_scanned_at:
        raise InvalidInput(_("the second check cannot precede the first"), field="scanned_at")
    _verify_reads(episode, data, moment)
    second = {
        "second_scanner_id": actor.id,
        "second_bag_scan": data.bag_scan.strip(),
        "second_wristband_scan": data.wristband_scan.strip(),
        "second_scanned_at": moment,
    }
    sign(
        session,
        actor=actor,
        password=data.password.get_secret_value(),
        meaning=IDENTITY_VERIFIED_AT_BEDSIDE,
        record_type=RECORD_TYPE,
        record_id=check.id,
        record_content={**first_signed_content(check), **second},
    )
    before = snapshot(check)
    check.second_scanner_id = actor.id
    check.second_bag_scan = data.bag_scan.strip()
    check.second_wristband_scan = data.wristband_scan.strip()
    check.second_scanned_at = moment
    check.status = BedsideCheckStatus.VERIFIED
    audit(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record=check,
        action="second_scan",
        before=before,
    )
    return check


def get_bedside_check(session: Session, *, actor: Actor, check_id: uuid.UUID) -> BedsideCheckOut:
    check, _ = _check_in_scope(
        session, actor=actor, check_id=check_id, roles=CLINICAL_READERS, lock=False
    )
    return bedside_check_out(session, check)


def bedside_check_out(session: Session, check: BedsideCheck) -> BedsideCheckOut:
    def username(user_id: uuid.UUID | None) -> str | None:
        user = session.get(User, user_id) if user_id is not None else None
        return user.username if user is not None else None

    signatures = []
    for signature in signatures_for(session, record_type=RECORD_TYPE, record_id=check.id):
        content = (
            first_signed_content(check)
            if signature.signer_id == check.first_scanner_id
            else second_signed_content(check)
        )
        signatures.append(
            SignatureOut(
                signer_username=signature.signer_username,
                signer_printed_name=signature.signer_printed_name,
                meaning=signature.meaning,
                signed_at=signature.signed_at,
                valid=verify_signature(
                    signature, record_type=RECORD_TYPE, record_id=check.id, record_content=content
                ),
            )
        )
    return BedsideCheckOut(
        id=check.id,
        episode_id=check.episode_id,
        chain_of_identity=check.chain_of_identity,
        status=check.status,
        first_scanner=username(check.first_scanner_id) or "",
        first_scanned_at=check.first_scanned_at,
        second_scanner=username(check.second_scanner_id),
        second_scanned_at=check.second_scanned_at,
        signatures=signatures,
    )


def record_infusion(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    data: InfusionIn,
    now: dt.datetime | None = None,
) -> Infusion:
    episode = clinical_episode(
        session,
        actor=actor,
        episode_id=episode_id,
        roles=CLINICIANS,
        action=_("recording the infusion"),
        lock=True,
    )
    if episode.state is not EpisodeState.LYMPHODEPLETION:
        raise ClinicalRuleRefused.from_denied(
            denied(
                "INF-STATE",
                _(
                    "an infusion follows lymphodepletion; the episode is {state}",
                    state=state_in_text(episode.state),
                ),
            )
        )
    check = session.get(BedsideCheck, data.bedside_check_id)
    if check is None or check.episode_id != episode.id:
        raise ClinicalRecordNotFound(
            _("no bedside check {id} for this episode", id=str(data.bedside_check_id)),
            field="bedside_check_id",
        )
    times = InfusionTimes(
        thaw_started_at=data.thaw_started_at,
        thaw_completed_at=data.thaw_completed_at,
        infusion_started_at=data.infusion_started_at,
        infusion_ended_at=data.infusion_ended_at,
    )
    if (field := times.out_of_order()) is not None:
        raise InvalidInput(
            _("{field} is earlier than the step before it", field=field), field=field
        )
    if data.infusion_ended_at > (now or utcnow()) + CLOCK_TOLERANCE:
        raise InvalidInput(_("infusion_ended_at is in the future"), field="infusion_ended_at")
    plan = current_plan(session, episode.id)
    window = episode.product.post_thaw_window_minutes
    facts = InfusionFacts(
        check_verified=check.status is BedsideCheckStatus.VERIFIED,
        check_completed_at=check.second_scanned_at,
        check_already_used=session.execute(
            select(Infusion.id).where(Infusion.bedside_check_id == check.id)
        ).first()
        is not None,
        ld_started_at=plan.started_at if plan is not None else None,
        post_thaw_window_minutes=window,
    )
    decision = guard_infusion(facts, times, deviation_reason=data.deviation_reason)
    if isinstance(decision, Denied):
        raise ClinicalRuleRefused.from_denied(decision)
    exceeded = thaw_window_exceeded(times, window)
    infusion = Infusion(
        episode_id=episode.id,
        bedside_check_id=check.id,
        thaw_started_at=data.thaw_started_at,
        thaw_completed_at=data.thaw_completed_at,
        infusion_started_at=data.infusion_started_at,
        infusion_ended_at=data.infusion_ended_at,
        post_thaw_window_minutes=window,
        thaw_to_end_minutes=round(times.thaw_to_end_minutes, 1),
        thaw_window_exceeded=exceeded,
        deviation_reason=data.deviation_reason.strip() if exceeded else "",
        cells_infused_1e6=data.cells_infused_1e6,
        volume_ml=data.volume_ml,
        bags=data.bags,
        complete=data.complete,
        recorded_by_id=actor.id,
        recorded_at=now or utcnow(),
        notes=data.notes,
    )
    session.add(infusion)
    audit(
        session,
        actor=actor,
        record_type="infusion",
        record=infusion,
        action="create",
        reason=infusion.deviation_reason,
    )
    move_episode(
        session,
        actor=actor,
        episode=episode,
        transition="infuse",
        reason=f"infusion {infusion.id} after bedside check {check.id}",
        now=data.infusion_started_at,
    )
    return infusion


def get_infusion(session: Session, *, actor: Actor, episode_id: uuid.UUID) -> Infusion:
    episode = clinical_episode(
        session, actor=actor, episode_id=episode_id, roles=CLINICAL_READERS, action=_("reading")
    )
    infusion = infusion_of(session, episode)
    if infusion is None:
        raise ClinicalRecordNotFound(_("the episode has no infusion on record"))
    return infusion
