"""Re-planning after a device outage or a failed batch (issue #7), with a preview of what moves.

The planner names the event; the page re-plans the planner's sites with the scheduling solver's
`replan` (the same function as `cartflow schedule replan`) from the live network
(`scheduling.export.export_instance`) and the active bookings (the previous plan), and shows each
episode whose booking would change: its chain of identity, the slot it leaves, the slot it gets
and the delay of its infusion. Nothing is written until the planner confirms; confirming re-plans
again (the greedy dispatcher is deterministic, so it is the previewed plan unless the network
changed meanwhile, which the page then says) and books through the scheduling service.

Confirmed bookings move through `scheduling.service.move_bookings` (every old booking released
first, each new one checked like a new booking, old ones kept cancelled with the event as reason).
A confirmed booking the re-plan would leave without a slot, or a failed batch not yet recorded as
such, refuses the whole confirmation: nothing is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
import zoneinfo
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.db.base import utcnow
from cartflow.db.session import DbSession
from cartflow.errors import CartflowError, Conflict
from cartflow.i18n import Message, _, ngettext_lazy
from cartflow.models import Device, Episode, EpisodeState, ManufacturingSite, Role
from cartflow.models.scheduling import BookingStatus, SlotBooking
from cartflow.scheduling import service as scheduling
from cartflow.scheduling import solver
from cartflow.scheduling.export import device_key, export_instance
from cartflow.scheduling.schemas import BookingRequest
from cartflow.web import views
from cartflow.web.forms import FormFields, field_errors, filled, refusal
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/planner/replan")

HORIZON_DAYS = 120
# Not yet eligible: the solver would propose slots that nobody may book.
_NOT_PLANNED = frozenset({EpisodeState.REFERRED})


class ReplanEvent(BaseModel):
    """The event the planner re-plans for (form fields; dates are the site's calendar days)."""

    kind: Literal["device_down", "batch_failed"]
    device: str | None = None
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    episode: uuid.UUID | None = None

    @model_validator(mode="after")
    def _complete(self) -> ReplanEvent:
        if self.kind == "device_down":
            if not self.device:
                raise _FieldError("device", _("choose the device that is down"))
            if self.first_date is None:
                raise _FieldError("first_date", _("give the first day the device is down"))
            if self.last_date is None:
                raise _FieldError("last_date", _("give the last day the device is down"))
            if self.last_date < self.first_date:
                raise _FieldError("last_date", _("the last day down is before the first"))
        elif self.episode is None:
            raise _FieldError("episode", _("choose the episode whose batch failed"))
        return self


class _FieldError(ValueError):
    """A form rule that names its field (Pydantic reports a model check on the whole form)."""

    def __init__(self, field: str, message: Message) -> None:
        super().__init__(str(message))
        self.field = field


@dataclass(frozen=True)
class MoveRow:
    """One episode whose booking the re-plan changes, as the page shows it."""

    episode: Episode
    booked: bool
    old: solver.Assignment | None
    new: solver.Assignment | None
    failed: bool

    @property
    def delay_days(self) -> int | None:
        if self.old is None or self.new is None:
            return None
        return (self.new.infusion_date - self.old.infusion_date).days


@dataclass(frozen=True)
class Preview:
    moves: list[MoveRow]
    fingerprint: str
    start: dt.date
    plan: solver.Plan

    @property
    def moved(self) -> list[MoveRow]:
        return [m for m in self.moves if m.booked and m.new is not None and not m.failed]

    @property
    def new_bookings(self) -> list[MoveRow]:
        return [m for m in self.moves if not m.booked and m.new is not None and not m.failed]

    @property
    def lost(self) -> list[MoveRow]:
        return [m for m in self.moves if m.failed or m.new is None]


def _sites(session: Session, actor: Actor) -> list[ManufacturingSite]:
    ids = actor.site_ids(Role.PLANNER)
    return list(
        session.execute(
            select(ManufacturingSite)
            .where(ManufacturingSite.id.in_(ids))
            .order_by(ManufacturingSite.code)
        ).scalars()
    )


def _site_today(sites: list[ManufacturingSite]) -> dt.date:
    zone = sites[0].timezone if sites else "UTC"
    return utcnow().astimezone(zoneinfo.ZoneInfo(zone)).date()


def _devices(session: Session, sites: list[ManufacturingSite]) -> list[tuple[str, str]]:
    code = {s.id: s.code for s in sites}
    rows = session.execute(
        select(Device.site_id, Device.code)
        .where(Device.site_id.in_(code), Device.active.is_(True))
        .order_by(Device.code)
    ).all()
    return [(device_key(code[site], dev), device_key(code[site], dev)) for site, dev in rows]


def _running(session: Session, actor: Actor, sites: list[ManufacturingSite]) -> list[Episode]:
    found: list[Episode] = []
    for site in sites:
        found += views.open_episodes(
            session, actor=actor, states=(EpisodeState.IN_MANUFACTURING,), site_id=site.id
        )
    return found


def _network(
    session: Session, actor: Actor, sites: list[ManufacturingSite], start: dt.date
) -> tuple[solver.Instance, solver.Plan, dict[str, Episode], set[str]]:
    """The planner's sites as an instance, the active bookings as the previous plan, the episodes
    by order id and the orders that hold an active booking."""
    full = export_instance(session, actor=actor, start_date=start, horizon_days=HORIZON_DAYS)
    site_codes = {s.code for s in sites}
    products = tuple(p for p in full.products if set(p.sites) & site_codes)
    product_ids = {p.id for p in products}
    wanted = [o for o in full.orders if o.product in product_ids]
    episodes = {
        str(e.id): e
        for e in session.execute(
            select(Episode).where(Episode.id.in_([uuid.UUID(o.id) for o in wanted]))
        ).scalars()
    }
    orders = tuple(
        o for o in wanted if o.id in episodes and episodes[o.id].state not in _NOT_PLANNED
    )
    instance = solver.Instance(
        start_date=full.start_date,
        horizon_days=full.horizon_days,
        sites=tuple(s for s in full.sites if s.id in site_codes),
        centers=full.centers,
        products=products,
        orders=orders,
        shipping_weekdays=full.shipping_weekdays,
    )
    planned = {o.id for o in orders}
    rows = session.execute(
        select(SlotBooking, Device.code, ManufacturingSite.code)
        .join(Device, Device.id == SlotBooking.device_id)
        .join(ManufacturingSite, ManufacturingSite.id == Device.site_id)
        .where(
            SlotBooking.status == BookingStatus.ACTIVE,
            ManufacturingSite.code.in_(site_codes),
        )
    ).all()
    assignments = [
        solver.Assignment(
            order=str(b.episode_id),
            apheresis_date=b.apheresis_date,
            site=site,
            device=device_key(site, dev),
            manufacturing_start=b.manufacturing_start,
            release_date=b.planned_release_date,
            infusion_date=b.planned_infusion_date,
        )
        for b, dev, site in rows
        if str(b.episode_id) in planned
    ]
    previous = solver.Plan(
        method="bookings",
        status="booked",
        objective=0,
        lower_bound=None,
        assignments=tuple(assignments),
        unscheduled=(),
    )
    return instance, previous, episodes, {a.order for a in assignments}


def preview(session: Session, actor: Actor, event: ReplanEvent) -> Preview:
    sites = _sites(session, actor)
    start = _site_today(sites)
    instance, previous, episodes, booked = _network(session, actor, sites, start)
    happening: solver.Event
    if event.kind == "device_down":
        assert event.device and event.first_date and event.last_date  # the model checked
        happening = solver.DeviceDown(event.device, event.first_date, event.last_date, start)
    else:
        happening = solver.BatchFailed(str(event.episode), start)
    result = solver.replan(instance, previous, happening, method="greedy", seed=0)
    failed = set(result.failed)
    moves = [
        MoveRow(
            episode=episodes[m.order],
            booked=m.order in booked,
            old=m.old,
            new=m.new,
            failed=m.order in failed,
        )
        for m in result.moves
        if m.order in episodes
    ]
    moves.sort(key=lambda m: (not m.booked, -m.episode.priority, str(m.episode.id)))
    digest = hashlib.sha256(repr([(m.episode.id, m.old, m.new) for m in moves]).encode())
    return Preview(moves=moves, fingerprint=digest.hexdigest(), start=start, plan=result.plan)


def _event_reason(event: ReplanEvent) -> str:
    # Kept in the audit trail with each moved booking, in the language of the record (English).
    if event.kind == "device_down":
        return f"re-plan: device {event.device} down {event.first_date} to {event.last_date}"
    return f"re-plan: batch of episode {event.episode} failed"


def apply(session: Session, actor: Actor, shown: Preview, event: ReplanEvent) -> tuple[int, int]:
    """Apply what the re-plan proposes, all or nothing (the request's unit of work): confirmed
    bookings move through `scheduling.service.move_bookings`, waiting episodes are booked through
    `book_slot`. Returns (moved, newly booked)."""
    dropped = [m for m in shown.moves if m.booked and m.new is None]
    if dropped:
        raise Conflict(
            ngettext_lazy(
                "{n} confirmed booking would be left without a slot ({coi}); move or cancel it by "
                "hand first: nothing was changed",
                "{n} confirmed bookings would be left without a slot ({coi}); move or cancel them "
                "by hand first: nothing was changed",
                len(dropped),
                coi=", ".join(m.episode.chain_of_identity or str(m.episode.id) for m in dropped),
            ),
            code="REPLAN-UNPLACED",
        )
    unrecorded = [
        m
        for m in shown.moves
        if m.failed and m.new is not None and m.episode.state not in scheduling.MOVABLE
    ]
    if unrecorded:
        raise Conflict(
            _(
                "record the failed batch first (a new manufacturing run for {coi}); "
                "nothing was changed",
                coi=", ".join(m.episode.chain_of_identity or str(m.episode.id) for m in unrecorded),
            ),
            code="REPLAN-BATCH-NOT-RECORDED",
        )
    moving = [m for m in shown.moves if m.booked and m.new is not None]
    scheduling.move_bookings(
        session,
        actor=actor,
        moves=[(m.episode.id, _request(m)) for m in moving],
        reason=_event_reason(event),
    )
    for m in shown.new_bookings:
        scheduling.book_slot(session, actor=actor, episode_id=m.episode.id, request=_request(m))
    return len(moving), len(shown.new_bookings)


def _request(m: MoveRow) -> BookingRequest:
    assert m.new is not None
    return BookingRequest(
        apheresis_date=m.new.apheresis_date,
        device=m.new.device.split("/", 1)[1],
        manufacturing_start=m.new.manufacturing_start,
        expected_version=m.episode.version,
    )


def _event(fields: dict[str, str]) -> tuple[ReplanEvent | None, dict[str, str], dict[str, str]]:
    values = filled(fields, "kind", "device", "first_date", "last_date", "episode")
    try:
        return ReplanEvent.model_validate(values), {}, values
    except ValidationError as exc:
        errors = field_errors(exc)
        for error in exc.errors(include_url=False):
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, _FieldError):
                errors = {cause.field: str(cause)}
        return None, errors, values


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    shown: Preview | None = None,
    booked: int | None = None,
    moved: int | None = None,
    status_code: int = 200,
) -> Response:
    sites = _sites(session, actor)
    context: dict[str, Any] = {
        "sites": sites,
        "zone": sites[0].timezone if sites else None,
        "now": utcnow(),
        "devices": _devices(session, sites),
        "running": [
            (str(e.id), e.chain_of_identity or e.patient.pseudonym)
            for e in _running(session, actor, sites)
        ],
        "values": values or {"kind": "device_down"},
        "errors": errors or {},
        "preview": shown,
        "booked": booked,
        "moved": moved,
    }
    return render(request, "replan.html", context, actor=actor, status_code=status_code)


@router.get("")
def replan_page(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.PLANNER)
    return _page(request, session, actor)


@router.post("/preview")
def replan_preview(
    request: Request, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    require_page_role(actor, Role.PLANNER)
    event, errors, values = _event(fields)
    if event is None:
        return _page(request, session, actor, values=values, errors=errors, status_code=422)
    try:
        shown = preview(session, actor, event)
    except CartflowError as exc:
        return _page(
            request,
            session,
            actor,
            values=values,
            errors=refusal(session, exc),
            status_code=exc.status_code,
        )
    return _page(request, session, actor, values=values, shown=shown)


@router.post("/confirm")
def replan_confirm(
    request: Request, session: DbSession, actor: PageActor, fields: FormFields
) -> Response:
    require_page_role(actor, Role.PLANNER)
    event, errors, values = _event(fields)
    if event is None:
        return _page(request, session, actor, values=values, errors=errors, status_code=422)
    shown: Preview | None = None
    try:
        shown = preview(session, actor, event)
        if shown.fingerprint != fields.get("fingerprint"):
            raise Conflict(
                _("the network changed since the preview: check the new preview and confirm again"),
                code="REPLAN-STALE",
            )
        moved, booked = apply(session, actor, shown, event)
    except CartflowError as exc:
        return _page(
            request,
            session,
            actor,
            values=values,
            errors=refusal(session, exc),
            shown=shown,
            status_code=exc.status_code,
        )
    return _page(request, session, actor, values=values, booked=booked, moved=moved)
