"""Booking an episode's apheresis chair and manufacturing device run (`cartflow.scheduling`),
with the site's device occupancy for the coming weeks so the booker can see what is free. The
service decides: a taken chair or device, or a run that would infuse too late, is refused with
its rule."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.errors import CartflowError
from cartflow.models import Device, Episode
from cartflow.models.scheduling import DeviceDay
from cartflow.scheduling import service as scheduling
from cartflow.scheduling.schemas import BookingRequest
from cartflow.web import (
    planning,  # noqa: F401  (registers the short_day filter)
    views,
)
from cartflow.web.forms import FormFields, field_errors, filled, refusal
from cartflow.web.pageauth import PageActor, page_router
from cartflow.web.templating import render

router = page_router()

WEEKS_SHOWN = 6


def occupancy(session: Session, episode: Episode, start: dt.date, days: int) -> list[Any]:
    """Each active device of the episode's site with the booked days among the next `days`."""
    devices = list(
        session.execute(
            select(Device)
            .where(Device.site_id == episode.manufacturing_site_id, Device.active.is_(True))
            .order_by(Device.code)
        ).scalars()
    )
    end = start + dt.timedelta(days=days - 1)
    busy: dict[uuid.UUID, set[int]] = {d.id: set() for d in devices}
    for device_id, day in session.execute(
        select(DeviceDay.device_id, DeviceDay.day).where(
            DeviceDay.device_id.in_(busy), DeviceDay.day.between(start, end)
        )
    ):
        busy[device_id].add((day - start).days)
    return [{"code": d.code, "kind": d.kind, "busy": busy[d.id]} for d in devices]


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    episode_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    booking = None
    try:
        booking = scheduling.current_booking(session, actor=actor, episode_id=episode_id)
    except CartflowError:
        booking = None
    start = views.local_today(episode.center)
    days = WEEKS_SHOWN * 7
    context: dict[str, Any] = {
        "episode": episode,
        "patient_label": views.patient_label(actor, episode),
        "booking": booking,
        "start": start,
        "days": [start + dt.timedelta(days=i) for i in range(days)],
        "devices": occupancy(session, episode, start, days),
        "errors": errors or {},
        "values": values or {},
        "step": views.main_step(views.next_steps(actor, episode)),
        "zone": episode.center.timezone,
    }
    return render(request, "booking.html", context, actor=actor, status_code=status_code)


@router.get("/episodes/{episode_id}/booking")
def booking_page(
    request: Request, episode_id: uuid.UUID, session: DbSession, actor: PageActor
) -> Response:
    return _page(request, session, actor, episode_id)


@router.post("/episodes/{episode_id}/booking")
def book(
    request: Request,
    episode_id: uuid.UUID,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    values = filled(fields, "apheresis_date", "device", "manufacturing_start", "expected_version")
    try:
        data = BookingRequest.model_validate(values)
        scheduling.book_slot(session, actor=actor, episode_id=episode_id, request=data)
    except ValidationError as exc:
        return _page(
            request,
            session,
            actor,
            episode_id,
            errors=field_errors(exc),
            values=values,
            status_code=422,
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        return _page(
            request,
            session,
            actor,
            episode_id,
            errors=refusal(session, exc),
            values=values,
            status_code=exc.status_code,
        )
    back = fields.get("back", "")
    safe = back.startswith("/") and not back.startswith("//")
    return RedirectResponse(back if safe else f"/episodes/{episode_id}", status_code=303)
