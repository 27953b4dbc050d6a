"""The pages in a real browser (Debian's Chromium, headless, driven by Playwright) against the
real app served by uvicorn: each role's worklist, the log-in form by keyboard, the live ASTCT grade
of the toxicity form, the scan station's hard stop, the e-signature dialog, the refusal of another
center's episode, and the layout at 768 and 1280 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from cartflow.models import Episode, EpisodeState
from cartflow.models.custody import CustodyContainer, CustodyDeviation, HandoffStep
from cartflow.models.manufacturing import Batch, BatchState
from cartflow.models.signature import ElectronicSignature
from tests.factories import PASSWORD
from tests.logistics.factories import barcode
from tests.web.conftest import DbReader, LiveServer

pytestmark = pytest.mark.browser


def log_in(page: Page, server: LiveServer, short: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(server.seed.username(short))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def _coi(episode: Episode | None) -> str:
    assert episode is not None and episode.chain_of_identity is not None
    return episode.chain_of_identity


def _row(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("row").filter(has_text=text)


@pytest.mark.parametrize(
    ("short", "path", "heading"),
    [
        ("coord", "/coordinator", "Patients"),
        ("nurse", "/nurse", "Collections"),
        ("planner", "/planner", "Manufacturing plan"),
        ("qc", "/qc", "QC results"),
        ("qp", "/qp", "awaiting disposition"),
        ("courier", "/courier", "Courier"),
        ("clin", "/clinician", "Ward"),
        ("analyst", "/registry", "Registry"),
        ("admin", "/admin", "Network administration"),
    ],
)
def test_each_role_lands_on_its_worklist(
    page: Page, live_server: LiveServer, shots: Path, short: str, path: str, heading: str
) -> None:
    log_in(page, live_server, short)
    expect(page).to_have_url(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    seed = live_server.seed
    states = seed.episodes
    if short == "coord":
        row = _row(page, _coi(states[EpisodeState.ELIGIBLE]))
        expect(row.get_by_role("link", name="Book apheresis and manufacturing")).to_be_visible()
        expect(page.get_by_text("Registered patients without an open episode (1)")).to_be_visible()
    elif short == "nurse":
        row = _row(page, _coi(states[EpisodeState.SLOT_BOOKED]))
        expect(row.get_by_role("link", name="Label and scan the collection")).to_be_visible()
        expect(row.get_by_role("link", name="Print bag label")).to_be_visible()
    elif short == "planner":
        expect(page.get_by_role("rowheader", name="DEV-1")).to_be_visible()
        # The eligible episode appears as the solver's proposal, and can be booked from here.
        proposal = page.get_by_role(
            "cell", name=f"{_coi(states[EpisodeState.ELIGIBLE])} (proposed)"
        )
        expect(proposal).to_be_visible()
        collected = page.get_by_role(
            "link", name=f"Start the batch {_coi(states[EpisodeState.APHERESIS_COLLECTED])}"
        )
        expect(collected).to_be_visible()
    elif short == "qc":
        assert seed.in_qc is not None
        expect(page.get_by_role("link", name=seed.in_qc.din)).to_be_visible()
        expect(_row(page, seed.in_qc.din)).to_contain_text("viability_percent")
    elif short == "qp":
        assert seed.ready_for_release is not None
        row = _row(page, seed.ready_for_release.din)
        expect(row).to_contain_text("ready")
        expect(row.get_by_role("link", name=f"Sign {seed.ready_for_release.din}")).to_be_visible()
    elif short == "courier":
        row = _row(page, _coi(seed.released))
        expect(row.get_by_role("link", name=f"Pick up {_coi(seed.released)}")).to_be_visible()
    elif short == "clin":
        assert seed.grade2 is not None
        grade2 = page.get_by_role("region", name="CRS or ICANS grade 2 or more (1)")
        expect(grade2.get_by_role("cell", name="grade 2")).to_be_visible()
        row = _row(page, "Lymphodepletion")
        expect(row.get_by_role("link", name="Bedside check and infusion")).to_be_visible()
    elif short == "analyst":
        expect(page.get_by_text("episodes in the cohort")).to_be_visible()
        expect(page.get_by_role("img").first).to_be_visible()
    elif short == "admin":
        expect(page.get_by_role("cell", name=seed.net.site.code, exact=True).first).to_be_visible()
    page.screenshot(path=shots / f"{short}-1280.png", full_page=True)


def test_the_log_in_form_works_by_keyboard_alone(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/login")
    # The username field has the focus on arrival; Tab moves to the password, Enter submits.
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(live_server.seed.username("coord"))
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/coordinator")
    # The first Tab on a page reaches the skip link, which moves the focus to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_the_toxicity_form_shows_the_astct_grade_as_it_is_filled_in(
    page: Page, live_server: LiveServer, shots: Path, web_db: DbReader
) -> None:
    episode = live_server.seed.grade2
    assert episode is not None
    log_in(page, live_server, "clin")
    page.goto(f"{live_server.url}/clinician/episodes/{episode.id}/toxicity")
    crs = page.locator("#crs-grade")
    icans = page.locator("#icans-grade")
    expect(crs).to_contain_text("enter the highest temperature")
    # Lee 2019 CRS table: fever alone is grade 1; fever with low-flow oxygen is grade 2;
    # with one vasopressor it is grade 3 (the worse of hypotension and hypoxia).
    page.get_by_label("Highest temperature (°C)").fill("39.2")
    expect(crs).to_have_attribute("data-grade", "1")
    page.get_by_label("Oxygen support for hypoxia").select_option("low_flow")
    expect(crs).to_have_attribute("data-grade", "2")
    page.get_by_label("Hypotension", exact=True).select_option("one_vasopressor")
    expect(crs).to_have_attribute("data-grade", "3")
    # ICANS (the patient is 12: ICE applies): ICE 7-9 is grade 1, awakening to voice grade 2.
    expect(icans).to_have_attribute("data-grade", "0")
    page.get_by_label("ICE score (0–10)").fill("8")
    expect(icans).to_have_attribute("data-grade", "1")
    page.get_by_label("Level of consciousness").select_option("awakens_to_voice")
    expect(icans).to_have_attribute("data-grade", "2")
    expect(icans).to_contain_text("awakens to voice")
    page.screenshot(path=shots / "toxicity-1280.png", full_page=True)
    # Recording it stores the service's own grades, listed under the form.
    page.get_by_role("button", name="Record the assessment").click()
    history = page.get_by_role("region", name="Assessments on record")
    expect(history.get_by_role("row").nth(1)).to_contain_text("grade 3")
    expect(history.get_by_role("row").nth(1)).to_contain_text("grade 2")


def test_a_mismatched_scan_is_a_full_screen_hard_stop_and_changes_nothing(
    page: Page, live_server: LiveServer, shots: Path, web_db: DbReader
) -> None:
    seed = live_server.seed
    episode, foreign = seed.released, seed.foreign_container
    assert episode is not None and foreign is not None
    deviations = select(func.count(CustodyDeviation.id)).where(
        CustodyDeviation.episode_id == episode.id
    )
    deviations_before = web_db.scalar(deviations)
    log_in(page, live_server, "courier")
    page.goto(f"{live_server.url}/scan?episode={episode.id}&step=product_pickup")
    scans = page.get_by_label("Scans, one per line (the scanner ends each with Enter)")
    expect(scans).to_be_focused()
    # A barcode scanner types its read and an Enter: another patient's collection bag.
    page.keyboard.type(barcode(foreign))
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Record hand-off").click()

    stop = page.get_by_role("alertdialog", name="STOP — do not hand over")
    expect(stop).to_be_visible()
    expect(stop).to_contain_text("Nothing was recorded")
    box = stop.bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == (
        0,
        0,
        viewport["width"],
        viewport["height"],
    ), "the hard stop must cover the whole screen"
    ack = stop.get_by_role("link", name="I have set it aside — back")
    expect(ack).to_be_focused()
    # The page behind is inert: the keyboard cannot reach the scan form.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') === null")
    page.screenshot(path=shots / "hard-stop-1280.png")

    moved = web_db.get(Episode, episode.id)
    assert moved is not None and moved.state is EpisodeState.RELEASED
    for container in seed.released_containers:
        fresh = web_db.get(CustodyContainer, container.id)
        assert fresh is not None and fresh.last_step is not HandoffStep.PRODUCT_PICKUP
    assert web_db.scalar(deviations) == deviations_before + 1

    # Acknowledged, the station is back; the right containers go through and the episode ships.
    ack.click()
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    field = page.get_by_label("Scans, one per line (the scanner ends each with Enter)")
    field.fill("\n".join(barcode(c) for c in seed.released_containers))
    page.get_by_role("button", name="Record hand-off").click()
    expect(page.get_by_role("status")).to_contain_text("The episode moved: ship")


def test_the_disposition_is_signed_in_the_e_signature_dialog(
    page: Page, live_server: LiveServer, shots: Path, web_db: DbReader
) -> None:
    batch = live_server.seed.ready_for_release
    assert batch is not None
    log_in(page, live_server, "qp")
    page.get_by_role("link", name=f"Sign {batch.din}").click()
    dialog = page.get_by_role("dialog", name="Electronic signature: Release for infusion")
    expect(dialog).to_contain_text("Released for infusion")
    expect(dialog).to_contain_text(re.compile("viability", re.IGNORECASE))
    expect(page.get_by_label("Your password")).to_be_focused()
    page.screenshot(path=shots / "e-signature-1280.png", full_page=True)
    # A wrong password signs nothing.
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Sign: Released for infusion").click()
    expect(page.get_by_label("Your password")).to_have_attribute("aria-invalid", "true")
    signed = select(func.count(ElectronicSignature.id)).where(
        ElectronicSignature.meaning == "Released for infusion",
        ElectronicSignature.signer_username == live_server.seed.username("qp"),
    )
    assert web_db.scalar(signed) == 0
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Sign: Released for infusion").click()
    expect(page.get_by_text("signature verifies")).to_be_visible()
    stored = web_db.get(Batch, batch.id)
    assert stored is not None and stored.state is BatchState.RELEASED


def test_another_centers_episode_is_not_found(page: Page, live_server: LiveServer) -> None:
    other = live_server.seed.other_center_episode
    assert other is not None
    log_in(page, live_server, "coord")
    response = page.goto(f"{live_server.url}/episodes/{other.id}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_text(other.chain_of_identity or "-")).to_have_count(0)


@pytest.mark.parametrize(
    ("short", "paths"),
    [
        ("coord", ["/coordinator"]),
        ("nurse", ["/nurse"]),
        ("planner", ["/planner"]),
        ("qc", ["/qc"]),
        ("qp", ["/qp"]),
        ("courier", ["/courier", "/scan"]),
        ("clin", ["/clinician"]),
        ("analyst", ["/registry"]),
        ("admin", ["/admin", "/admin/users"]),
    ],
)
def test_pages_fit_a_tablet_and_a_desktop_without_horizontal_scrolling(
    page: Page, live_server: LiveServer, shots: Path, short: str, paths: list[str]
) -> None:
    log_in(page, live_server, short)
    for width in (768, 1280):
        page.set_viewport_size({"width": width, "height": 1000})
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll <= client, f"{path} at {width} px scrolls sideways ({scroll} > {client})"
            if width == 768:
                name = f"{short}{path.replace('/', '-')}-768.png"
                page.screenshot(path=shots / name, full_page=True)
