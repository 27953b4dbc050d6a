"""Booking an episode's apheresis chair and manufacturing device run.

Invariants: a chair-day and a device-day belong to at most one active booking (unique constraints
`chair_day` and `device_day`, so the database decides a race for the last slot: exactly one
coordinator wins, the other gets 409); a booking is written together with the episode's move to
`slot_booked` and its audit event, or not at all; withdrawing an episode frees its slots.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import record_event
from cartflow.auth.actor import Actor
from cartflow.auth.errors import RoleRequired
from cartflow.auth.scope import roles_on_episode
from cartflow.db.base import utcnow
from cartflow.episodes.schemas import TransitionRequest
from cartflow.episodes.service import apply_transition, get_episode
from cartflow.errors import Conflict, InvalidInput, NotFound
from cartflow.i18n import _
from cartflow.i18n.labels import state_in_text
from cartflow.models import CenterSiteRoute, Device, Episode, EpisodeState, Role, TreatmentCenter
from cartflow.models.scheduling import BookingStatus, ChairDay, DeviceDay, SlotBooking
from cartflow.scheduling.errors import BookingWindow, DeviceTaken, NoChairFree
from cartflow.scheduling.schemas import BookingOut, BookingRequest

OWNER = "scheduling"
BOOKERS = frozenset({Role.COORDINATOR, Role.PLANNER})


def _transit_days(session: Session, episode: Episode) -> int:
    route = session.execute(
        select(CenterSiteRoute.transit_days).where(
            CenterSiteRoute.center_id == episode.center_id,
            CenterSiteRoute.site_id == episode.manufacturing_site_id,
        )
    ).scalar_one_or_none()
    if route is None:
        raise BookingWindow(
            _("no courier route between the center and the manufacturing site is configured"),
            code="BOOK-NO-ROUTE",
        )
    return route


def _free_chair(session: Session, center: TreatmentCenter, day: dt.date) -> int:
    taken = set(
        session.execute(
            select(ChairDay.chair_number).where(
                ChairDay.center_id == center.id, ChairDay.day == day
            )
        ).scalars()
    )
    for number in range(1, center.apheresis_chairs_per_day + 1):
        if number not in taken:
            return number
    raise NoChairFree(
        _(
            "all {chairs} apheresis chairs at {center} are booked on {day}",
            chairs=center.apheresis_chairs_per_day,
            center=center.code,
            day=day,
        )
    )


def book_slot(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    request: BookingRequest,
    now: dt.datetime | None = None,
) -> SlotBooking:
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    if not roles_on_episode(actor, episode) & BOOKERS:
        raise RoleRequired(_("booking a slot needs a coordinator of the center or a site planner"))
    booking = _reserve(
        session,
        actor=actor,
        episode=episode,
        request=request,
        chair=None,
        action="book",
        before=None,
        now=now,
    )
    apply_transition(
        session,
        actor=actor,
        episode_id=episode.id,
        request=TransitionRequest(
            transition="book_slot",
            planned_apheresis_date=request.apheresis_date,
            planned_infusion_date=booking.planned_infusion_date,
            expected_version=request.expected_version,
        ),
        now=now,
        on_behalf_of=OWNER,
    )
    return booking


# Before collection the whole booking may move; once the cells are collected (or a failed batch
# sent them back for a new run) only the device run and the dates after it can.
MOVABLE = frozenset({EpisodeState.SLOT_BOOKED, EpisodeState.APHERESIS_COLLECTED})


def move_booking(
    session: Session,
    *,
    actor: Actor,
    episode_id: uuid.UUID,
    request: BookingRequest,
    reason: str,
    now: dt.datetime | None = None,
) -> SlotBooking:
    """Move an episode's active booking (see `move_bookings`)."""
    return move_bookings(
        session, actor=actor, moves=[(episode_id, request)], reason=reason, now=now
    )[0]


def move_bookings(
    session: Session,
    *,
    actor: Actor,
    moves: Sequence[tuple[uuid.UUID, BookingRequest]],
    reason: str,
    now: dt.datetime | None = None,
) -> list[SlotBooking]:
    """Move several episodes' active bookings at once (re-planning after an outage or a failed
    batch), all or nothing within the caller's unit of work.

    Every old booking is released first, so that one episode may take the days another leaves;
    each new booking passes every check a new booking does, on the same unique chair-day and
    device-day rows, so a move can never double-book. The old bookings are kept, cancelled with the
    reason. After collection the apheresis date and chair stay as they were.
    """
    prepared = [_movable(session, actor=actor, episode_id=e, request=r) for e, r in moves]
    befores = [snapshot(old) for _episode, old, _request in prepared]
    for episode, _old, _request in prepared:
        cancel_bookings(session, actor=actor, episode_id=episode.id, reason=reason)
    moved = []
    for (episode, old, request), before in zip(prepared, befores, strict=True):
        collected = episode.state is EpisodeState.APHERESIS_COLLECTED
        booking = _reserve(
            session,
            actor=actor,
            episode=episode,
            request=request,
            chair=old.chair_number if collected else None,
            action="move",
            before=before,
            now=now,
            reason=reason,
        )
        episode_before = {
            "planned_apheresis_date": episode.planned_apheresis_date,
            "planned_infusion_date": episode.planned_infusion_date,
        }
        episode.planned_apheresis_date = booking.apheresis_date
        episode.planned_infusion_date = booking.planned_infusion_date
        session.flush()
        record_event(
            session,
            actor=actor.as_audit_actor(),
            record_type="episode",
            record_id=episode.id,
            action="rebook",
            before=episode_before,
            after={
                "planned_apheresis_date": episode.planned_apheresis_date,
                "planned_infusion_date": episode.planned_infusion_date,
            },
            reason=reason,
        )
        moved.append(booking)
    return moved


def _movable(
    session: Session, *, actor: Actor, episode_id: uuid.UUID, request: BookingRequest
) -> tuple[Episode, SlotBooking, BookingRequest]:
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    if not roles_on_episode(actor, episode) & BOOKERS:
        raise RoleRequired(
            _("moving a booking needs a coordinator of the center or a site planner")
        )
    if request.expected_version is not None and request.expected_version != episode.version:
        raise Conflict(
            _("the episode changed since you read it; reload and retry"), code="STATE-STALE"
        )
    if episode.state not in MOVABLE:
        raise Conflict(
            _(
                "a booking can move only before manufacturing starts; the episode is {state}",
                state=state_in_text(episode.state),
            ),
            code="BOOK-MOVE-STATE",
        )
    old = session.execute(
        select(SlotBooking).where(
            SlotBooking.episode_id == episode.id, SlotBooking.status == BookingStatus.ACTIVE
        )
    ).scalar_one_or_none()
    if old is None:
        raise NotFound(_("the episode has no active booking"))
    if episode.state is EpisodeState.APHERESIS_COLLECTED:
        request = request.model_copy(update={"apheresis_date": old.apheresis_date})
    return episode, old, request


def _reserve(
    session: Session,
    *,
    actor: Actor,
    episode: Episode,
    request: BookingRequest,
    chair: int | None,
    action: str,
    before: dict[str, object] | None,
    now: dt.datetime | None,
    reason: str = "",
) -> SlotBooking:
    """Check and take a chair-day (unless `chair` is already held) and the device-days."""
    product = episode.product
    device = session.execute(
        select(Device).where(
            Device.site_id == episode.manufacturing_site_id,
            Device.code == request.device,
            Device.active.is_(True),
        )
    ).scalar_one_or_none()
    if device is None:
        raise InvalidInput(
            _(
                "no active device {device!r} at the product's manufacturing site",
                device=request.device,
            ),
            field="device",
        )
    transit = _transit_days(session, episode)
    arrival = request.apheresis_date + dt.timedelta(days=transit)
    start = request.manufacturing_start or arrival
    if start < arrival:
        raise BookingWindow(
            _(
                "manufacturing cannot start on {start}: the cells arrive at the site on {arrival}",
                start=start,
                arrival=arrival,
            )
        )
    release = start + dt.timedelta(days=product.manufacturing_days + product.qc_days)
    infusion = release + dt.timedelta(days=transit)
    if episode.latest_infusion_date is not None and infusion > episode.latest_infusion_date:
        raise BookingWindow(
            _(
                "the earliest infusion this booking allows ({infusion}) is after the patient's "
                "latest useful date ({latest})",
                infusion=infusion,
                latest=episode.latest_infusion_date,
            ),
            code="BOOK-TOO-LATE",
        )
    days = [start + dt.timedelta(days=n) for n in range(product.manufacturing_days)]
    busy = session.execute(
        select(func.min(DeviceDay.day)).where(
            DeviceDay.device_id == device.id, DeviceDay.day.in_(days)
        )
    ).scalar_one_or_none()
    if busy is not None:
        raise DeviceTaken(
            _("device {device} is already booked on {day}", device=device.code, day=busy)
        )
    take_chair = chair is None
    chair_number = (
        chair if chair is not None else _free_chair(session, episode.center, request.apheresis_date)
    )

    booking = SlotBooking(
        episode_id=episode.id,
        center_id=episode.center_id,
        apheresis_date=request.apheresis_date,
        chair_number=chair_number,
        device_id=device.id,
        manufacturing_start=start,
        manufacturing_days=product.manufacturing_days,
        planned_release_date=release,
        planned_infusion_date=infusion,
        booked_by_id=actor.id,
        booked_at=now or utcnow(),
    )
    session.add(booking)
    session.flush()
    # A concurrent booking that passed the checks above loses here, on the unique constraints.
    if take_chair:
        try:
            with session.begin_nested():
                session.add(
                    ChairDay(
                        center_id=episode.center_id,
                        day=request.apheresis_date,
                        chair_number=chair_number,
                        booking_id=booking.id,
                    )
                )
                session.flush()
        except IntegrityError:
            raise NoChairFree(
                _(
                    "the last apheresis chair on {day} was just booked by someone else",
                    day=request.apheresis_date,
                )
            ) from None
    try:
        with session.begin_nested():
            session.add_all(
                DeviceDay(device_id=device.id, day=d, booking_id=booking.id) for d in days
            )
            session.flush()
    except IntegrityError:
        raise DeviceTaken(
            _("device {device} was just booked by someone else for these days", device=device.code)
        ) from None
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="slot_booking",
        record_id=booking.id,
        action=action,
        before=before,
        after=snapshot(booking) | {"device_code": device.code},
        reason=reason,
    )
    return booking


def cancel_bookings(session: Session, *, actor: Actor, episode_id: uuid.UUID, reason: str) -> int:
    """Free the episode's chair and device days (bookings are kept, marked cancelled)."""
    bookings = (
        session.execute(
            select(SlotBooking).where(
                SlotBooking.episode_id == episode_id, SlotBooking.status == BookingStatus.ACTIVE
            )
        )
        .scalars()
        .all()
    )
    for booking in bookings:
        session.execute(delete(ChairDay).where(ChairDay.booking_id == booking.id))
        session.execute(delete(DeviceDay).where(DeviceDay.booking_id == booking.id))
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = utcnow()
        booking.cancel_reason = reason
        record_event(
            session,
            actor=actor.as_audit_actor(),
            record_type="slot_booking",
            record_id=booking.id,
            action="cancel",
            before={"status": BookingStatus.ACTIVE.value},
            after={"status": BookingStatus.CANCELLED.value},
            reason=reason,
        )
    session.flush()
    return len(bookings)


def current_booking(session: Session, *, actor: Actor, episode_id: uuid.UUID) -> BookingOut:
    episode = get_episode(session, actor=actor, episode_id=episode_id)
    row = session.execute(
        select(SlotBooking, Device.code)
        .join(Device, Device.id == SlotBooking.device_id)
        .where(SlotBooking.episode_id == episode.id, SlotBooking.status == BookingStatus.ACTIVE)
    ).first()
    if row is None:
        raise NotFound(_("the episode has no active booking"))
    return booking_out(row[0], row[1])


def booking_out(booking: SlotBooking, device_code: str) -> BookingOut:
    return BookingOut(
        id=booking.id,
        episode_id=booking.episode_id,
        apheresis_date=booking.apheresis_date,
        chair_number=booking.chair_number,
        device_code=device_code,
        manufacturing_start=booking.manufacturing_start,
        manufacturing_days=booking.manufacturing_days,
        planned_release_date=booking.planned_release_date,
        planned_infusion_date=booking.planned_infusion_date,
        status=booking.status,
    )
