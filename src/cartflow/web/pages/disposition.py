"""The qualified person's and QC analyst's worklists, and the electronic-signature dialog of a
batch disposition (release, second signature of an exceptional release, rejection).

The dialog shows exactly what is signed (the batch, its results with their limits, enterer and
verifier) and the meaning, and asks for the password again (21 CFR 11.50, 11.200). A wrong
password signs nothing and counts towards the user's lock-out (`forms.signature_refusal`).
"""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cartflow.audit.signatures import REJECTED, RELEASED_FOR_INFUSION
from cartflow.auth.actor import Actor
from cartflow.db.session import DbSession
from cartflow.errors import CartflowError, InvalidInput
from cartflow.i18n import Message, _
from cartflow.manufacturing import disposition, worklists
from cartflow.manufacturing import views as batch_views
from cartflow.manufacturing.access import get_batch
from cartflow.manufacturing.schemas import Reject, Sign
from cartflow.models import ManufacturingSite, Role
from cartflow.web.forms import FormFields, field_errors, signature_refusal
from cartflow.web.pageauth import PageActor, page_router, require_page_role
from cartflow.web.templating import render

router = page_router()

DECISIONS: dict[str, tuple[Message, str]] = {
    "release": (_("Release for infusion"), RELEASED_FOR_INFUSION),
    "second-signature": (_("Second signature of the exceptional release"), RELEASED_FOR_INFUSION),
    "reject": (_("Reject the batch"), REJECTED),
}


def site_zone(session: Session, actor: Actor, role: Role) -> str | None:
    """The time zone of the site where the actor holds `role`, when it is one site (a worklist
    of several sites falls back to the network's display zone)."""
    sites = actor.site_ids(role)
    if len(sites) != 1:
        return None
    site = session.get(ManufacturingSite, next(iter(sites)))
    return site.timezone if site is not None else None


def _sign_page(
    request: Request,
    session: Session,
    actor: Actor,
    batch_id: uuid.UUID,
    decision: str,
    *,
    errors: dict[str, str] | None = None,
    reason: str = "",
    status_code: int = 200,
) -> Response:
    if decision not in DECISIONS:
        raise InvalidInput(_("unknown decision {decision!r}", decision=decision), field="decision")
    batch = get_batch(session, actor=actor, batch_id=batch_id)
    record = batch_views.batch_out(session, batch)
    title, meaning = DECISIONS[decision]
    site = session.get(ManufacturingSite, batch.site_id)
    return render(
        request,
        "sign.html",
        {
            "batch": record,
            "decision": decision,
            "title": title,
            "zone": site.timezone if site is not None else None,
            "meaning": meaning,
            "errors": errors or {},
            "reason": reason,
        },
        actor=actor,
        status_code=status_code,
    )


@router.get("/batches/{batch_id}/sign/{decision}")
def sign_dialog(
    request: Request, batch_id: uuid.UUID, decision: str, session: DbSession, actor: PageActor
) -> Response:
    require_page_role(actor, Role.QUALIFIED_PERSON)
    return _sign_page(request, session, actor, batch_id, decision)


@router.post("/batches/{batch_id}/sign/{decision}")
def sign_submit(
    request: Request,
    batch_id: uuid.UUID,
    decision: str,
    session: DbSession,
    actor: PageActor,
    fields: FormFields,
) -> Response:
    require_page_role(actor, Role.QUALIFIED_PERSON)
    reason = fields.get("reason", "")
    password = fields.get("password", "")
    try:
        if decision == "release":
            disposition.release(
                session,
                actor=actor,
                batch_id=batch_id,
                data=Sign(password=password, reason=reason),
            )
        elif decision == "second-signature":
            disposition.approve_exceptional_release(
                session,
                actor=actor,
                batch_id=batch_id,
                data=Sign(password=password, reason=reason),
            )
        elif decision == "reject":
            disposition.reject(
                session,
                actor=actor,
                batch_id=batch_id,
                data=Reject(
                    password=password, reason=reason, remanufacture="remanufacture" in fields
                ),
            )
        else:
            raise InvalidInput(
                _("unknown decision {decision!r}", decision=decision), field="decision"
            )
    except ValidationError as exc:
        return _sign_page(
            request,
            session,
            actor,
            batch_id,
            decision,
            errors=field_errors(exc),
            reason=reason,
            status_code=422,
        )
    except CartflowError as exc:
        if exc.status_code == 404:
            raise
        errors = signature_refusal(request, session, actor, exc)
        return _sign_page(
            request,
            session,
            actor,
            batch_id,
            decision,
            errors=errors,
            reason=reason,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


@router.get("/qc")
def qc_worklist(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.QC_ANALYST)
    return render(
        request,
        "qc.html",
        {
            "items": worklists.qc_worklist(session, actor=actor),
            "zone": site_zone(session, actor, Role.QC_ANALYST),
        },
        actor=actor,
    )


@router.get("/qp")
def qp_worklist(request: Request, session: DbSession, actor: PageActor) -> Response:
    require_page_role(actor, Role.QUALIFIED_PERSON)
    return render(
        request,
        "qp.html",
        {
            "items": worklists.qp_worklist(session, actor=actor),
            "zone": site_zone(session, actor, Role.QUALIFIED_PERSON),
        },
        actor=actor,
    )
