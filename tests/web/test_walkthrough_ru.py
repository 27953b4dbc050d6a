"""Scenario, in the browser and in Russian (issue #12: "a Russian-speaking coordinator, nurse and
clinician can do their whole work in Russian").

Each person logs in (the browser asks for nothing in particular, so the pages start in English),
switches to Русский with the switcher in the top bar, and from then on every page of their work is
Russian: the page names itself ``lang="ru"``, and no heading, column, label, button or summary
that the same page shows in English is left untranslated. The coordinator then does their own work
in Russian: registers and refers a patient, reads the episode's timeline in Moscow time, and
withdraws the patient with a reason chosen from a Russian list.

The pages are compared with the same page seen by a colleague of the same role who keeps English,
so the check needs no list of every English string: whatever the English page calls its headings,
buttons and labels must not be found among the Russian page's.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from cartflow.db.engine import make_engine
from cartflow.i18n.extract import UNTRANSLATED_WORDS
from cartflow.models import (
    AuditEvent,
    Episode,
    EpisodeState,
    EpisodeStateChange,
    Patient,
    Role,
    User,
)
from tests.factories import PASSWORD, make_center, make_user
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.browser
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")  # the factories' centers
# The visible frame of a page: what names things and what one clicks.
CHROME = "h1, h2, h3, caption, th, dt, label, legend, summary, button, a.button, nav a"
ROLES = {"coord": Role.COORDINATOR, "nurse": Role.APHERESIS_NURSE, "clin": Role.CLINICIAN}


@dataclass
class Desk:
    page: Page
    username: str


def _login(browser: Browser, server: LiveServer, username: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


@pytest.fixture(scope="module")
def people(web_database_url: str, live_server: LiveServer) -> dict[str, tuple[str, str]]:
    """For each role, two people of the seed's center: one who will switch to Russian and one
    who keeps English (fresh users: the seed's own keep their language for the other tests)."""
    engine = make_engine(web_database_url)
    center = live_server.seed.net.center_a
    names: dict[str, tuple[str, str]] = {}
    with Session(engine) as session:
        for short, role in ROLES.items():
            ru, en = (f"{short}-{lang}-{uuid.uuid4().hex[:6]}" for lang in ("ru", "en"))
            make_user(session, role, center=center, username=ru)
            make_user(session, role, center=center, username=en)
            names[short] = (ru, en)
        session.commit()
    engine.dispose()
    return names


@pytest.fixture(scope="module")
def desks(
    browser: Browser, live_server: LiveServer, people: dict[str, tuple[str, str]]
) -> Iterator[dict[str, tuple[Desk, Desk]]]:
    """Both people of each role logged in; the first has switched to Русский with the switcher."""
    found: dict[str, tuple[Desk, Desk]] = {}
    for short, (ru_name, en_name) in people.items():
        russian = _login(browser, live_server, ru_name)
        expect(russian.locator("html")).to_have_attribute("lang", "en")
        russian.get_by_role("button", name="Русский").click()
        expect(russian.locator("html")).to_have_attribute("lang", "ru")
        expect(russian.get_by_role("button", name="Выйти")).to_be_visible()
        found[short] = (
            Desk(russian, ru_name),
            Desk(_login(browser, live_server, en_name), en_name),
        )
    yield found
    for russian, english in found.values():
        russian.page.context.close()
        english.page.context.close()


def test_the_switcher_saves_russian_in_the_profile(
    desks: dict[str, tuple[Desk, Desk]], web_database_url: str, live_server: LiveServer
) -> None:
    engine = make_engine(web_database_url)
    with Session(engine) as session:
        for short, (russian, english) in desks.items():
            saved = session.execute(
                select(User.locale).where(User.username == russian.username)
            ).scalar_one()
            kept = session.execute(
                select(User.locale).where(User.username == english.username)
            ).scalar_one()
            assert (saved, kept) == ("ru", ""), short
    engine.dispose()
    # The choice follows the person to a new browser: log in afresh, no switcher needed.
    coord = desks["coord"][0].username
    page = _login_ru(desks["coord"][0].page.context.browser, live_server, coord)
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Пациенты")
    page.context.close()


def _login_ru(browser: Browser | None, server: LiveServer, username: str) -> Page:
    assert browser is not None
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Выйти")).to_be_visible()
    return page


def _chrome(page: Page) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        CHROME,
        # The switcher names each language in itself (English, Русский): not UI text.
        "els => els.filter(e => !e.closest('.language'))"
        ".map(e => (e.innerText || e.value || '').trim())",
    )
    return [" ".join(t.split()) for t in texts if t.strip()]


def _latin(text: str) -> bool:
    """Text with a word a reader would have to know English for (codes, units and names of
    standards excepted, as the completeness check excepts them)."""
    for word in re.split(r"[\s,;:()«»/]+", text):
        word = word.strip(".!?…'\"“”")
        if not re.search(r"[A-Za-z]", word) or word in UNTRANSLATED_WORDS:
            continue
        if re.fullmatch(r"[A-Z0-9][A-Z0-9\-_.+]*", word):  # identifiers: DIN, COI, codes
            continue
        return True
    return False


def _episode_ids(live_server: LiveServer) -> dict[str, uuid.UUID]:
    seed = live_server.seed
    assert seed.grade2 is not None and seed.bedside is not None
    return {
        "referred": seed.episodes[EpisodeState.REFERRED].id,
        "eligible": seed.episodes[EpisodeState.ELIGIBLE].id,
        "slot_booked": seed.episodes[EpisodeState.SLOT_BOOKED].id,
        "received": seed.episodes[EpisodeState.RECEIVED].id,
        "bedside": seed.bedside.id,
        "infused": seed.grade2.id,
    }


# Every page of the three roles' work, with the episode it is opened for.
PAGES = [
    ("coord", "/coordinator", None),
    ("coord", "/episodes/{id}", "referred"),
    ("coord", "/episodes/{id}/booking", "eligible"),
    ("coord", "/scan?episode={id}", "slot_booked"),
    ("nurse", "/nurse", None),
    ("nurse", "/scan?episode={id}&step=collection", "slot_booked"),
    ("nurse", "/episodes/{id}", "slot_booked"),
    ("clin", "/clinician", None),
    ("clin", "/clinician/episodes/{id}/eligibility", "referred"),
    ("clin", "/clinician/episodes/{id}/lymphodepletion", "received"),
    ("clin", "/clinician/episodes/{id}/infusion", "bedside"),
    ("clin", "/clinician/episodes/{id}/toxicity", "infused"),
    ("clin", "/clinician/episodes/{id}/followup", "infused"),
    ("clin", "/episodes/{id}", "infused"),
]


@pytest.mark.parametrize(("short", "path", "which"), PAGES)
def test_every_page_of_the_work_is_in_russian(
    desks: dict[str, tuple[Desk, Desk]],
    live_server: LiveServer,
    short: str,
    path: str,
    which: str | None,
) -> None:
    url = live_server.url + (path.format(id=_episode_ids(live_server)[which]) if which else path)
    russian, english = desks[short]
    assert english.page.goto(url).status == 200  # type: ignore[union-attr]
    assert russian.page.goto(url).status == 200  # type: ignore[union-attr]
    expect(russian.page.locator("html")).to_have_attribute("lang", "ru")
    english_chrome = set(_chrome(english.page))
    russian_chrome = _chrome(russian.page)
    assert any(_latin(t) for t in english_chrome), "the English page has no English to compare"
    left = sorted({t for t in russian_chrome if t in english_chrome and _latin(t)})
    assert not left, f"English left on {path}: {left}"
    h1 = russian.page.get_by_role("heading", level=1).first.inner_text()
    assert re.search("[а-яА-ЯёЁ]", h1) or not _latin(h1), h1
    body = russian.page.locator("body").inner_text()
    for english_word in ("Log out", "Next step", "Nothing here", "Reason or note", "Choose…"):
        assert english_word not in body, (path, english_word)


@pytest.fixture(scope="module")
def own_center_coordinator(
    browser: Browser, live_server: LiveServer, web_database_url: str
) -> Iterator[Page]:
    """A coordinator of a center of their own (the patient registered here must not show up in
    the seed center's lists that other tests count), logged in and switched to Русский."""
    engine = make_engine(web_database_url)
    suffix = uuid.uuid4().hex[:6].upper()
    with Session(engine) as session:
        center = make_center(session, code=f"RU-{suffix}", site=live_server.seed.net.site)
        username = make_user(
            session, Role.COORDINATOR, center=center, username=f"coord-ru-own-{suffix.lower()}"
        ).username
        session.commit()
    engine.dispose()
    page = _login(browser, live_server, username)
    page.get_by_role("button", name="Русский").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    yield page
    page.context.close()


def test_the_coordinator_registers_refers_and_withdraws_in_russian(
    own_center_coordinator: Page, live_server: LiveServer, web_database_url: str
) -> None:
    coord = own_center_coordinator
    server = live_server
    mrn = f"RU-{uuid.uuid4().hex[:6]}"
    coord.goto(f"{server.url}/coordinator")
    expect(coord.get_by_role("heading", level=1)).to_contain_text("Пациенты")
    form = coord.get_by_role("region", name="Регистрация пациента")
    form.get_by_label("Номер медицинской карты").fill(mrn)
    form.get_by_label("Фамилия").fill("Смирнова")
    form.get_by_label("Имя", exact=True).fill("Ольга")
    form.get_by_label("Дата рождения").fill("2012-03-08")
    form.get_by_label("Пол").select_option(label="женский")
    form.get_by_label("Масса тела (кг)").fill("38")
    form.get_by_label("Рост (см)").fill("146")
    form.get_by_label("Статус заболевания").select_option(label="рецидив")
    form.get_by_label("Предшествующие линии терапии").fill("2")
    form.get_by_role("button", name="Зарегистрировать пациента").click()

    coord.get_by_text("Направить: Смирнова").click()
    row = coord.get_by_role("row").filter(has_text=mrn)
    expect(row).to_contain_text("2 предшествующие линии")
    row.get_by_label("Самая ранняя дата афереза").fill(dt.datetime.now(MOSCOW).date().isoformat())
    row.get_by_role("button", name="Направить", exact=True).click()
    expect(coord.get_by_role("heading", level=1)).to_contain_text("Смирнова Ольга")
    expect(coord.get_by_role("heading", level=1)).to_contain_text("Направлен")
    episode_id = uuid.UUID(coord.url.rsplit("/", 1)[1])

    # The summary and the timeline: dates in the Russian style, times in Moscow time, named.
    summary = coord.locator("dl.summary")
    expect(summary).to_contain_text("Дата рождения")
    expect(summary).to_contain_text("08.03.2012")
    expect(summary).to_contain_text("рецидив")
    audit = coord.get_by_role("region", name="История аудита")
    engine = make_engine(web_database_url)
    with Session(engine) as session:
        referred_at = session.execute(
            select(AuditEvent.occurred_at).where(
                AuditEvent.record_type == "episode",
                AuditEvent.record_id == str(episode_id),
                AuditEvent.action == "refer",
            )
        ).scalar_one()
    if referred_at.tzinfo is None:
        referred_at = referred_at.replace(tzinfo=dt.UTC)
    expect(audit).to_contain_text(referred_at.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M МСК"))
    expect(audit).to_contain_text("Направить")

    # Withdrawal: a deliberate step with its reason from a Russian list.
    coord.get_by_text("Оформить выбытие…").click()
    step = coord.get_by_role("group", name="Оформить выбытие")
    step.get_by_label("Причина выбытия").select_option(label="решение пациента")
    step.get_by_label("Причина или примечание (необязательно)").fill("семья отказалась")
    step.get_by_role("button", name="Оформить выбытие").click()
    expect(coord.get_by_role("heading", level=1)).to_contain_text("Выбыл")
    expect(coord.locator("dl.summary")).to_contain_text(
        "решение пациента (из состояния «Направлен»)"
    )
    timeline = coord.get_by_role("region", name="Хронология «от вены до вены»")
    expect(timeline).to_contain_text("Выбыл (Оформить выбытие)")
    expect(timeline).to_contain_text("МСК")
    expect(timeline).to_contain_text("семья отказалась")
    with Session(engine) as session:
        state = session.execute(select(Episode.state).where(Episode.id == episode_id)).scalar_one()
        patient = session.execute(select(Patient).where(Patient.mrn == mrn)).scalar_one()
        changes = (
            session.execute(
                select(EpisodeStateChange.transition).where(
                    EpisodeStateChange.episode_id == episode_id
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert state is EpisodeState.WITHDRAWN
    assert (patient.family_name, patient.given_name) == ("Смирнова", "Ольга")
    assert list(changes) == ["withdraw"]
