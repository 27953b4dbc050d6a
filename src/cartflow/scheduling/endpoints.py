"""Slot booking over HTTP."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from cartflow.auth.dependencies import CurrentActor
from cartflow.db.session import DbSession
from cartflow.models import Device
from cartflow.scheduling import service
from cartflow.scheduling.schemas import BookingMove, BookingOut, BookingRequest

router = APIRouter(tags=["scheduling"])


@router.post(
    "/episodes/{episode_id}/booking",
    response_model=BookingOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "no chair or device free, or outside the patient's window"}},
)
def book_slot(
    episode_id: uuid.UUID, body: BookingRequest, session: DbSession, actor: CurrentActor
) -> BookingOut:
    booking = service.book_slot(session, actor=actor, episode_id=episode_id, request=body)
    device = session.get(Device, booking.device_id)
    assert device is not None
    return service.booking_out(booking, device.code)


@router.get("/episodes/{episode_id}/booking", response_model=BookingOut)
def get_booking(episode_id: uuid.UUID, session: DbSession, actor: CurrentActor) -> BookingOut:
    return service.current_booking(session, actor=actor, episode_id=episode_id)


@router.put(
    "/episodes/{episode_id}/booking",
    response_model=BookingOut,
    responses={
        409: {"description": "no chair or device free, outside the window, or too late to move"}
    },
)
def move_booking(
    episode_id: uuid.UUID, body: BookingMove, session: DbSession, actor: CurrentActor
) -> BookingOut:
    """Move the active booking (re-planning); the old one is kept, cancelled with the reason."""
    booking = service.move_booking(
        session, actor=actor, episode_id=episode_id, request=body, reason=body.reason
    )
    device = session.get(Device, booking.device_id)
    assert device is not None
    return service.booking_out(booking, device.code)
