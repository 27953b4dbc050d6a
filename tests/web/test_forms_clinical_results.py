"""The clinician's counts-and-outcomes page through the real app and database: a blood count and
a death are recorded through the clinical services; bad values are refused beside their field and
nothing is written."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.models import Episode, EpisodeState, Role
from cartflow.models.clinical_outcome import DeathRecord, ResponseAssessment
from cartflow.models.clinical_toxicity import BloodCount
from tests.factories import make_episode, make_network, make_user
from tests.web.helpers import login, post_form


def infused(session: Session, unique: str) -> tuple[Episode, str]:
    net = make_network(session, unique)
    episode = make_episode(session, net, state=EpisodeState.INFUSED)
    return episode, make_user(session, Role.CLINICIAN, center=net.center_a).username


def counts_of(session: Session, episode: Episode) -> int:
    return session.execute(
        select(func.count(BloodCount.id)).where(BloodCount.episode_id == episode.id)
    ).scalar_one()


def deaths_of(session: Session, episode: Episode) -> int:
    return session.execute(
        select(func.count(DeathRecord.id)).where(DeathRecord.episode_id == episode.id)
    ).scalar_one()


def test_a_blood_count_is_recorded_and_listed(
    client: TestClient, session: Session, unique: str
) -> None:
    episode, clinician = infused(session, unique)
    token = login(client, clinician)
    url = f"/clinician/episodes/{episode.id}/results"
    today = dt.date.today().isoformat()  # noqa: DTZ011 - a calendar day
    done = post_form(
        client,
        f"{url}/counts",
        token,
        {"sampled_on": today, "anc_per_ul": "320", "platelets_10e9_per_l": "18"},
    )
    assert done.status_code == 303, done.text
    assert counts_of(session, episode) == 1
    page = client.get(url)
    assert page.status_code == 200 and "320" in page.text and "ICAHT grades" in page.text


def test_a_bad_count_is_refused_beside_its_field_and_nothing_is_written(
    client: TestClient, session: Session, unique: str
) -> None:
    episode, clinician = infused(session, unique)
    token = login(client, clinician)
    url = f"/clinician/episodes/{episode.id}/results/counts"
    today = dt.date.today().isoformat()  # noqa: DTZ011
    negative = post_form(client, url, token, {"sampled_on": today, "anc_per_ul": "-5"})
    assert negative.status_code == 422
    assert 'id="anc_per_ul-error"' in negative.text and 'value="-5"' in negative.text
    empty = post_form(client, url, token, {"sampled_on": today})
    assert empty.status_code == 422 and "needs anc_per_ul or platelets" in empty.text
    ru = post_form(client, url, token, {"sampled_on": "", "anc_per_ul": "100"})
    assert ru.status_code == 422 and 'id="sampled_on-error"' in ru.text
    assert counts_of(session, episode) == 0


def test_a_death_is_recorded_once_and_a_future_date_is_refused(
    client: TestClient, session: Session, unique: str
) -> None:
    episode, clinician = infused(session, unique)
    token = login(client, clinician)
    url = f"/clinician/episodes/{episode.id}/results"
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()  # noqa: DTZ011
    future = post_form(client, f"{url}/death", token, {"died_on": tomorrow, "cause": "infection"})
    assert future.status_code == 422 and 'id="died_on-error"' in future.text
    no_cause = post_form(client, f"{url}/death", token, {"died_on": tomorrow})
    assert no_cause.status_code == 422 and 'id="cause-error"' in no_cause.text
    assert deaths_of(session, episode) == 0
    today = dt.date.today().isoformat()  # noqa: DTZ011
    done = post_form(client, f"{url}/death", token, {"died_on": today, "cause": "infection"})
    assert done.status_code == 303, done.text
    page = client.get(url, cookies={"cartflow_locale": "ru"})
    assert "Показатели крови и исходы" in page.text and "Инфекция" in page.text
    assert deaths_of(session, episode) == 1


def test_the_page_is_for_clinicians(client: TestClient, session: Session, unique: str) -> None:
    episode, _clinician = infused(session, unique)
    net_center = episode.center_id
    nurse = make_user(session, Role.COORDINATOR)
    nurse.roles[0].center_id = net_center
    session.flush()
    login(client, nurse.username)
    assert client.get(f"/clinician/episodes/{episode.id}/results").status_code == 403


def responses_of(session: Session, episode: Episode) -> int:
    return session.execute(
        select(func.count(ResponseAssessment.id)).where(ResponseAssessment.episode_id == episode.id)
    ).scalar_one()


def test_a_b_all_remission_is_classified_by_the_service(
    client: TestClient, session: Session, unique: str
) -> None:
    episode, clinician = infused(session, unique)
    token = login(client, clinician)
    url = f"/clinician/episodes/{episode.id}/results"
    today = dt.date.today().isoformat()  # noqa: DTZ011
    done = post_form(
        client,
        f"{url}/response",
        token,
        {
            "assessed_on": today,
            "marrow_blasts_pct": "1.5",
            "anc_10e9_per_l": "1.4",
            "platelets_10e9_per_l": "130",
            "mrd_flow_pct": "0.001",
            "transfusion_independent": "true",
        },
    )
    assert done.status_code == 303, done.text
    page = client.get(url)
    assert "complete remission" in page.text and "negative" in page.text
    assert responses_of(session, episode) == 1


def test_a_bad_response_is_refused_beside_its_field_and_nothing_is_written(
    client: TestClient, session: Session, unique: str
) -> None:
    episode, clinician = infused(session, unique)
    token = login(client, clinician)
    url = f"/clinician/episodes/{episode.id}/results/response"
    today = dt.date.today()  # noqa: DTZ011
    good = {
        "assessed_on": today.isoformat(),
        "marrow_blasts_pct": "1.5",
        "anc_10e9_per_l": "1.4",
        "platelets_10e9_per_l": "130",
    }
    blasts = post_form(client, url, token, good | {"marrow_blasts_pct": "150"})
    assert blasts.status_code == 422 and 'id="marrow_blasts_pct-error"' in blasts.text
    early = (today - dt.timedelta(days=3)).isoformat()
    before = post_form(client, url, token, good | {"assessed_on": early})
    assert before.status_code == 422 and 'id="assessed_on-error"' in before.text
    ru = client.post(
        url,
        data=good | {"marrow_blasts_pct": "150", "csrf_token": token},
        cookies={"cartflow_locale": "ru"},
    )
    assert ru.status_code == 422 and "Оценка ответа" in ru.text
    assert responses_of(session, episode) == 0
