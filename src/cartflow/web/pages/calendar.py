"""The coordinator's center calendar (issue #7): by week, the center's booked apheresis dates, the
manufacturing runs booked for its patients and their expected infusion dates, on the center's own
calendar days (its time zone decides which day is "today" and where a week starts).

What is shown comes from the episode service (which episodes the coordinator may see) and the
active slot bookings (`cartflow.scheduling`); the page only files them under their days.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.db.base import utcnow
from cartflow.db.session import DbSession
from cartflow.i18n import _
from cartflow.models import Device, Episode, EpisodeState, Role, TreatmentCenter
from cartflow.models.scheduling import BookingStatus, SlotBooking
from cartflow.web import views
from cartflow.web.forms import field_errors
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/coordinator/calendar")

# From booking to infusion: the states in which an episode has dates on the calendar.
CALENDAR_STATES = (
    EpisodeState.SLOT_BOOKED,
    EpisodeState.APHERESIS_COLLECTED,
    EpisodeState.IN_MANUFACTURING,
    EpisodeState.QC,
    EpisodeState.RELEASED,
    EpisodeState.SHIPPED,
    EpisodeState.RECEIVED,
    EpisodeState.LYMPHODEPLETION,
)


WEEKDAYS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)


class CalendarQuery(BaseModel):
    """The calendar's own form: from which week, for how many weeks."""

    start: dt.date | None = None
    weeks: int = Field(default=6, ge=1, le=26)


@dataclass(frozen=True)
class Entry:
    episode: Episode
    patient: str
    device: str = ""
    chair: int | None = None
    days: int | None = None
    release: dt.date | None = None


@dataclass
class Day:
    date: dt.date
    today: bool
    apheresis: list[Entry] = field(default_factory=list)
    manufacturing: list[Entry] = field(default_factory=list)
    infusion: list[Entry] = field(default_factory=list)


@dataclass(frozen=True)
class CenterCalendar:
    center: TreatmentCenter
    weeks: list[list[Day]]


def _centers(session: Session, actor: Actor) -> list[TreatmentCenter]:
    return list(
        session.execute(
            select(TreatmentCenter)
            .where(TreatmentCenter.id.in_(actor.center_ids(Role.COORDINATOR)))
            .order_by(TreatmentCenter.code)
        ).scalars()
    )


def center_calendar(
    session: Session, actor: Actor, center: TreatmentCenter, first: dt.date, weeks: int
) -> CenterCalendar:
    today = views.local_today(center)
    days = {
        first + dt.timedelta(days=i): Day(first + dt.timedelta(days=i), False)
        for i in range(weeks * 7)
    }
    if today in days:
        days[today].today = True
    episodes = {
        e.id: e
        for e in views.open_episodes(
            session, actor=actor, states=CALENDAR_STATES, center_id=center.id
        )
    }
    bookings: dict[uuid.UUID, tuple[SlotBooking, str]] = {
        b.episode_id: (b, code)
        for b, code in session.execute(
            select(SlotBooking, Device.code)
            .join(Device, Device.id == SlotBooking.device_id)
            .where(SlotBooking.episode_id.in_(episodes), SlotBooking.status == BookingStatus.ACTIVE)
        ).all()
    }
    for episode in sorted(episodes.values(), key=lambda e: e.chain_of_identity or ""):
        patient = views.patient_label(actor, episode)
        booked = bookings.get(episode.id)
        if booked is not None:
            b, code = booked
            if b.apheresis_date in days:
                days[b.apheresis_date].apheresis.append(
                    Entry(episode, patient, chair=b.chair_number)
                )
            if b.manufacturing_start in days:
                days[b.manufacturing_start].manufacturing.append(
                    Entry(
                        episode,
                        patient,
                        device=code,
                        days=b.manufacturing_days,
                        release=b.planned_release_date,
                    )
                )
        infusion = episode.planned_infusion_date or (
            booked[0].planned_infusion_date if booked else None
        )
        if infusion in days:
            days[infusion].infusion.append(Entry(episode, patient))
    ordered = sorted(days.values(), key=lambda d: d.date)
    return CenterCalendar(center, [ordered[i : i + 7] for i in range(0, len(ordered), 7)])


@router.get("")
def calendar_page(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.COORDINATOR)
    centers = _centers(session, actor)
    values = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
    errors: dict[str, str] = {}
    try:
        query = CalendarQuery.model_validate(values)
    except ValidationError as exc:
        errors = field_errors(exc)
        query = CalendarQuery()
    calendars = []
    for center in centers:
        today = views.local_today(center)
        start = query.start or today
        first = start - dt.timedelta(days=start.weekday())
        calendars.append(center_calendar(session, actor, center, first, query.weeks))
    context: dict[str, Any] = {
        "calendars": calendars,
        "zone": centers[0].timezone if centers else None,
        "now": utcnow(),
        "values": values,
        "errors": errors,
        "weeks": query.weeks,
        "weekdays": WEEKDAYS,
        "step": dt.timedelta(days=7 * query.weeks),
    }
    return render(
        request,
        "center_calendar.html",
        context,
        actor=actor,
        status_code=422 if errors else 200,
    )
