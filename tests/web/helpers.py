"""Helpers for page tests through the real app (TestClient): log in with the form, read the CSRF
token a page embeds, post forms with it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from tests.factories import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    match = _TOKEN.search(html)
    assert match is not None, "the page has no CSRF field"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (from the page landed on)."""
    client.cookies.clear()
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200, home.text
    return csrf_of(home.text)


def post_form(client: TestClient, url: str, token: str, data: dict[str, str]) -> Response:
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)
