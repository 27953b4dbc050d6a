"""Log-in, log-out and the CSRF rule of the pages (issue 4: a form post without its token is 403)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.models import Role
from tests.factories import make_network, make_user
from tests.web.helpers import csrf_of, login, post_form


def test_a_page_sends_a_visitor_without_a_session_to_log_in(client: TestClient) -> None:
    response = client.get("/coordinator", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/coordinator"


def test_log_in_lands_on_the_role_worklist_and_log_out_ends_the_session(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COORDINATOR, center=net.center_a)
    token = login(client, user.username)
    assert client.get("/", follow_redirects=False).headers["location"] == "/coordinator"

    response = post_form(client, "/logout", token, {})
    assert response.status_code == 303
    # The old cookie no longer opens a page, even if a client kept it.
    assert client.get("/coordinator", follow_redirects=False).status_code == 303


def test_a_wrong_password_shows_the_form_again_with_the_reason(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COORDINATOR, center=net.center_a)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": user.username, "password": "wrong", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 401
    assert "wrong username or password" in response.text
    assert 'for="username"' in response.text and 'for="password"' in response.text


def test_log_in_without_the_form_token_is_refused(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COORDINATOR, center=net.center_a)
    client.get("/login")
    response = client.post("/login", data={"username": user.username, "password": "x"})
    assert response.status_code == 403
    assert "CSRF-REFUSED" in response.text


def test_a_form_post_without_its_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COORDINATOR, center=net.center_a)
    login(client, user.username)
    assert client.post("/logout", follow_redirects=False).status_code == 403
    # The session is still open: the refused log-out did nothing.
    assert client.get("/coordinator", follow_redirects=False).status_code == 200


def test_a_token_from_another_session_is_refused(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    first = make_user(session, Role.COORDINATOR, center=net.center_a)
    second = make_user(session, Role.COORDINATOR, center=net.center_a)
    old_token = login(client, first.username)
    new_token = login(client, second.username)
    assert old_token != new_token
    assert post_form(client, "/logout", old_token, {}).status_code == 403
    assert post_form(client, "/logout", new_token, {}).status_code == 303


def test_log_in_refuses_to_redirect_off_site(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    user = make_user(session, Role.COORDINATOR, center=net.center_a)
    page = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/"' in page.text
    response = client.post(
        "/login",
        data={
            "username": user.username,
            "password": "correct-horse-battery",
            "csrf_token": csrf_of(page.text),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"
