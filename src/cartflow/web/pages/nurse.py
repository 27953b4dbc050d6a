"""The apheresis nurse's worklist: today's collections at the center (and any overdue), the next
week's, and the collection-bag label of each (ISBT 128 layout from `cartflow.identity.labels`)."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import Request
from fastapi.responses import Response

from cartflow.auth.errors import RoleRequired
from cartflow.db.session import DbSession
from cartflow.episodes import service as episodes
from cartflow.i18n import _
from cartflow.identity.isbt128 import ChainOfIdentityId, ProductCode
from cartflow.identity.labels import LabelContent, LabelKind
from cartflow.identity.labels_pdf import render_label_pdf
from cartflow.models import EpisodeState, Role, TreatmentCenter
from cartflow.web import views
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router(prefix="/nurse")

UPCOMING_DAYS = 7


@router.get("")
def worklist(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.APHERESIS_NURSE)
    centers = [session.get(TreatmentCenter, c) for c in actor.center_ids(Role.APHERESIS_NURSE)]
    today_rows: list[views.Row] = []
    upcoming: list[views.Row] = []
    for center in centers:
        if center is None:
            continue
        today = views.local_today(center)
        for episode in views.open_episodes(
            session, actor=actor, states=(EpisodeState.SLOT_BOOKED,), center_id=center.id
        ):
            day = episode.planned_apheresis_date
            if day is None:
                continue
            if day <= today:
                # The page words it; the note only says which case this is.
                note = "today" if day == today else "overdue"
                today_rows.append(views.row(actor, episode, note=note))
            elif day <= today + dt.timedelta(days=UPCOMING_DAYS):
                upcoming.append(views.row(actor, episode, note=day.isoformat()))
    upcoming.sort(key=lambda r: r.note)
    return render(
        request,
        "nurse.html",
        {
            "today_rows": today_rows,
            "upcoming": upcoming,
            "centers": [c for c in centers if c is not None],
            "days": UPCOMING_DAYS,
        },
        actor=actor,
    )


@router.get("/episodes/{episode_id}/collection-label.pdf")
def collection_label(episode_id: uuid.UUID, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.APHERESIS_NURSE)
    episode = episodes.get_episode(session, actor=actor, episode_id=episode_id)
    if not views.shows_identity(actor, episode) or episode.chain_of_identity is None:
        raise RoleRequired(_("labels are printed by the nurses of the patient's center"))
    patient = episode.patient
    content = LabelContent(
        kind=LabelKind.COLLECTION_BAG,
        coi=ChainOfIdentityId.parse(episode.chain_of_identity),
        product_name=episode.product.name,
        patient_name=f"{patient.family_name} {patient.given_name}".strip() or patient.pseudonym,
        product_code=ProductCode.parse(episode.product.isbt_product_code),
        date_of_birth=patient.date_of_birth,
        facility=episode.center.name,
    )
    return Response(
        render_label_pdf(content),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{episode.chain_of_identity}-collection.pdf"'
        },
    )
