"""The home page: straight to the worklist of the role, or a choice for a user with several."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from cartflow.web.pageauth import PageActor, page_router
from cartflow.web.templating import nav_for, render

router = page_router()


@router.get("/")
def home(request: Request, actor: PageActor) -> Response:
    pages = nav_for(actor)
    if len(pages) == 1:
        return RedirectResponse(pages[0].href, status_code=303)
    return render(request, "home.html", {"pages": pages}, actor=actor)
