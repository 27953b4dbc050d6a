"""Scenario, in the browser: one patient walked from registration to follow-up, every step taken
on the page of the role that takes it (nothing set up behind the pages but the network and the
users).

1. The coordinator registers and refers the patient; the clinician records consent and the
   eligibility assessment; the coordinator books the apheresis chair and a device run.
2. The nurse labels the collection bag and scans it at the end of apheresis; the coordinator plans
   the fresh-apheresis shipment; the courier picks it up; the site receives it.
3. The planner starts the batch, records its steps, labels and freezes the product, submits it for
   QC; one analyst enters the ten results of the specification, another verifies them; the
   qualified person signs the release and scans the product out.
4. The planner labels the shipper and plans the shipment; the courier picks it up; two people at
   the center receive it; the nurse stores it.
5. The clinician plans and starts lymphodepletion; two people check identity at the bedside; the
   infusion is recorded; a CRS assessment is recorded; the follow-up schedule lists day 28.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from cartflow.clinical.bedside import wristband_data
from cartflow.models import Episode, EpisodeState, Patient
from cartflow.models.custody import ContainerKind, CustodyContainer
from cartflow.models.manufacturing import Batch
from tests.factories import PASSWORD
from tests.logistics.factories import barcode
from tests.manufacturing.factories import ARI_0001_LOT_01
from tests.web.conftest import DbReader, LiveServer

pytestmark = pytest.mark.browser
MOSCOW = zoneinfo.ZoneInfo("Europe/Moscow")  # the factories' centers and site
# Work-up values inside the default eligibility limits (cartflow.clinical.eligibility).
LABS = {
    "anc_per_ul": "1800",
    "lymphocytes_per_ul": "600",
    "platelets_10e9_per_l": "140",
    "hemoglobin_g_per_dl": "10.5",
    "creatinine_clearance_ml_min": "95",
    "bilirubin_mg_per_dl": "0.6",
    "alt_x_uln": "1.1",
    "ast_x_uln": "0.9",
    "lvef_pct": "60",
    "spo2_room_air_pct": "98",
}


@dataclass
class Desks:
    """One logged-in browser per person, as on their own devices."""

    browser: Browser
    server: LiveServer
    pages: dict[str, Page] = field(default_factory=dict)

    def __call__(self, short: str) -> Page:
        if short not in self.pages:
            context = self.browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.goto(f"{self.server.url}/login")
            page.get_by_label("Username").fill(self.server.seed.username(short))
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("button", name="Log out")).to_be_visible()
            self.pages[short] = page
        return self.pages[short]


@pytest.fixture
def desks(browser: Browser, live_server: LiveServer) -> Iterator[Desks]:
    found = Desks(browser, live_server)
    yield found
    for page in found.pages.values():
        page.context.close()


def _next_minute() -> str:
    """A local time just ahead of now, as a datetime-local input takes it (minutes)."""
    moment = dt.datetime.now(MOSCOW).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    return moment.strftime("%Y-%m-%dT%H:%M")


def _local(delta: dt.timedelta) -> str:
    return (dt.datetime.now(MOSCOW) + delta).strftime("%Y-%m-%dT%H:%M")


def _reads(db: DbReader, episode_id: uuid.UUID, *kinds: ContainerKind) -> str:
    from sqlalchemy.orm import Session

    with Session(db.engine) as session:
        rows = session.execute(
            select(CustodyContainer)
            .where(CustodyContainer.episode_id == episode_id, CustodyContainer.kind.in_(kinds))
            .order_by(CustodyContainer.din)
        ).scalars()
        return "\n".join(barcode(c) for c in rows)


def _scan(
    page: Page,
    server: LiveServer,
    episode_id: uuid.UUID,
    step: str,
    reads: str,
    *,
    witness: str | None = None,
) -> None:
    page.goto(f"{server.url}/scan?episode={episode_id}&step={step}")
    page.get_by_label("Scans, one per line (the scanner ends each with Enter)").fill(reads)
    if witness is not None:
        page.get_by_label("Second person's username").fill(server.seed.username(witness))
        page.get_by_label("Second person's password").fill(PASSWORD)
    page.get_by_role("button", name="Record hand-off").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded")


def _label(
    page: Page, server: LiveServer, episode_id: uuid.UUID, kind: str, count: int = 1
) -> None:
    page.goto(f"{server.url}/scan?episode={episode_id}")
    page.get_by_label("Kind").select_option(kind)
    page.get_by_label("How many").fill(str(count))
    page.get_by_role("button", name="Label", exact=True).click()
    expect(page.get_by_role("heading", name="Containers", exact=True)).to_be_visible()


def _plan_shipment(page: Page, server: LiveServer, episode_id: uuid.UUID, material: str) -> None:
    page.goto(f"{server.url}/scan?episode={episode_id}")
    page.get_by_label("Material").select_option(material)
    page.get_by_label("Shipper serial").fill(f"DS-{uuid.uuid4().hex[:5]}")
    page.get_by_label("Courier company").fill("Cryo Courier")
    page.get_by_label("Planned departure (local time)").fill(_local(dt.timedelta(hours=1)))
    page.get_by_label("Planned arrival (local time)").fill(_local(dt.timedelta(hours=20)))
    page.get_by_role("button", name="Plan shipment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Scan")


def test_one_patient_from_registration_to_follow_up_through_the_pages(
    desks: Desks, live_server: LiveServer, web_db: DbReader
) -> None:
    server, seed = live_server, live_server.seed
    mrn = f"WALK-{uuid.uuid4().hex[:6]}"

    # 1. Registration, referral, consent and eligibility, booking.
    coord = desks("coord")
    coord.goto(f"{server.url}/coordinator")
    form = coord.get_by_role("region", name="Register a patient")
    form.get_by_label("Medical record number").fill(mrn)
    form.get_by_label("Family name").fill("Walker")
    form.get_by_label("Given name").fill("Alice")
    form.get_by_label("Date of birth").fill("2013-05-04")
    form.get_by_label("Weight (kg)").fill("41")
    form.get_by_label("Height (cm)").fill("150")
    form.get_by_label("Prior lines of therapy").fill("2")
    form.get_by_role("button", name="Register patient").click()
    coord.get_by_text("Refer Walker").click()
    refer = coord.get_by_role("row").filter(has_text=mrn)
    refer.get_by_label("Earliest apheresis date").fill(dt.datetime.now(MOSCOW).date().isoformat())
    refer.get_by_role("button", name="Refer").click()
    expect(coord.get_by_role("heading", level=1)).to_contain_text("Walker Alice")
    episode_id = uuid.UUID(coord.url.rsplit("/", 1)[1])

    clin = desks("clin")
    clin.goto(f"{server.url}/clinician/episodes/{episode_id}/eligibility")
    clin.get_by_label("Signed on").fill(dt.datetime.now(MOSCOW).date().isoformat())
    clin.get_by_label("Form version").fill("v3")
    clin.get_by_role("button", name="Record consent").click()
    clin.get_by_label("ECOG performance status (0–5)").fill("1")
    clin.get_by_label("Karnofsky / Lansky (0–100)").fill("90")
    for lab, value in LABS.items():
        clin.get_by_label(lab.replace("_", " "), exact=True).fill(value)
    clin.get_by_role("button", name="Record the assessment").click()
    expect(clin.get_by_text("eligible", exact=True)).to_be_visible()

    coord.goto(f"{server.url}/episodes/{episode_id}")
    coord.get_by_role("link", name="Book apheresis and manufacturing").click()
    coord.get_by_label("Apheresis date").fill(dt.datetime.now(MOSCOW).date().isoformat())
    coord.get_by_role("button", name="Book").click()
    expect(coord.get_by_role("heading", level=1)).to_contain_text("Walker Alice")
    assert (ep := web_db.get(Episode, episode_id)) is not None
    assert ep.state is EpisodeState.SLOT_BOOKED

    # 2. Collection and the apheresis to the site.
    nurse = desks("nurse")
    nurse.goto(f"{server.url}/nurse")
    nurse.get_by_role("row").filter(has_text="Walker").get_by_role(
        "link", name="Label and scan the collection"
    ).click()
    _label(nurse, server, episode_id, "collection_bag")
    bag = _reads(web_db, episode_id, ContainerKind.COLLECTION_BAG)
    _scan(nurse, server, episode_id, "collection", bag)
    _plan_shipment(coord, server, episode_id, "fresh_apheresis")
    _scan(desks("courier"), server, episode_id, "apheresis_pickup", bag)
    planner = desks("planner")
    _scan(planner, server, episode_id, "site_receipt", bag)

    # 3. Manufacture, QC and release.
    planner.goto(f"{server.url}/manufacturing/episodes/{episode_id}")
    moment = _next_minute()
    planner.get_by_label("Apheresis material received", exact=False).fill(moment)
    planner.get_by_role("button", name="Start batch").click()
    batch_url = planner.url
    for _ in range(6):
        step = planner.get_by_role("form", name="Record the next step")
        step.get_by_label("Started").fill(moment)
        step.get_by_label("Completed (empty: now)").fill(moment)
        step.get_by_role("button").click()
    _label(planner, server, episode_id, "product_bag")
    _label(planner, server, episode_id, "cassette")
    product = _reads(web_db, episode_id, ContainerKind.PRODUCT_BAG, ContainerKind.CASSETTE)
    _scan(planner, server, episode_id, "cryopreservation", product)
    planner.goto(batch_url)
    planner.get_by_role("button", name="Submit for QC").click()

    qc = desks("qc")
    qc.goto(batch_url)
    for test, value in ARI_0001_LOT_01.items():
        entry = qc.get_by_role("form", name="Enter a QC result")
        entry.get_by_label("Test").select_option(test)
        entry.get_by_label("Result").fill(str(value))
        entry.get_by_role("button", name="Enter result").click()
    qc2 = desks("qc2")
    qc2.goto(batch_url)
    for _ in ARI_0001_LOT_01:
        qc2.get_by_role("button", name="Verify").first.click()
    expect(qc2.get_by_role("button", name="Verify")).to_have_count(0)

    qp = desks("qp")
    qp.goto(f"{server.url}/qp")
    with_batch = web_db.scalar(select(Batch.din).where(Batch.episode_id == episode_id))
    qp.get_by_role("link", name=f"Sign {with_batch}").click()
    qp.get_by_label("Your password").fill(PASSWORD)
    qp.get_by_role("button", name="Sign: Released for infusion").click()
    expect(qp.get_by_text("signature verifies")).to_be_visible()
    _scan(qp, server, episode_id, "release", product)

    # 4. To the center.
    _label(planner, server, episode_id, "shipper")
    _plan_shipment(planner, server, episode_id, "cryopreserved_product")
    everything = _reads(
        web_db, episode_id, ContainerKind.PRODUCT_BAG, ContainerKind.CASSETTE, ContainerKind.SHIPPER
    )
    _scan(desks("courier"), server, episode_id, "product_pickup", everything)
    _scan(coord, server, episode_id, "center_receipt", everything, witness="clin")
    _scan(nurse, server, episode_id, "storage", product)

    # 5. Lymphodepletion, bedside check, infusion, toxicity, follow-up.
    clin.goto(f"{server.url}/clinician/episodes/{episode_id}/lymphodepletion")
    day0 = dt.datetime.now(MOSCOW).date() + dt.timedelta(days=5)
    clin.get_by_label("Planned infusion (day 0)").fill(day0.isoformat())
    clin.get_by_label("Regimen").select_option("tisa-cel-all")
    clin.get_by_label("Creatinine clearance, mL/min (measured)").fill("95")
    clin.get_by_role("button", name="Calculate and save the plan").click()
    clin.get_by_role("button", name="Start lymphodepletion").click()

    with_coi = web_db.get(Episode, episode_id)
    assert with_coi is not None and with_coi.chain_of_identity is not None
    patient = web_db.get(Patient, with_coi.patient_id)
    assert patient is not None
    bag_read = f"=<{seed.net.product.isbt_product_code}&/{with_coi.chain_of_identity}"
    band = wristband_data(pseudonym=patient.pseudonym, coi=with_coi.chain_of_identity)
    for person in ("clin", "clin2"):
        desk = desks(person)
        desk.goto(f"{server.url}/clinician/episodes/{episode_id}/infusion")
        desk.get_by_label("Scan the product bag").fill(bag_read)
        desk.get_by_label("Scan the patient's wristband").fill(band)
        desk.get_by_label("Your password", exact=False).fill(PASSWORD)
        desk.get_by_role("button", name="Verify and sign").click()
    clin.goto(f"{server.url}/clinician/episodes/{episode_id}/infusion")
    when = _next_minute()
    for label in ("Thaw started", "Thaw completed", "Infusion started", "Infusion ended"):
        clin.get_by_label(label, exact=True).fill(when)
    clin.get_by_label("CAR+ viable T cells infused (× 10⁶)").fill("120")
    clin.get_by_label("Volume (mL)").fill("40")
    clin.get_by_role("button", name="Record the infusion").click()
    expect(clin.get_by_role("heading", level=1)).to_contain_text("Walker Alice")
    assert (infused := web_db.get(Episode, episode_id)) is not None
    assert infused.state is EpisodeState.INFUSED

    clin.goto(f"{server.url}/clinician/episodes/{episode_id}/toxicity")
    clin.get_by_label("Highest temperature (°C)").fill("38.6")
    expect(clin.locator("#crs-grade")).to_have_attribute("data-grade", "1")
    clin.get_by_label("Assessed at", exact=False).fill(when)
    clin.get_by_role("button", name="Record the assessment").click()
    expect(clin.get_by_role("region", name="Assessments on record")).to_contain_text("grade 1")

    clin.goto(f"{server.url}/clinician/episodes/{episode_id}/followup")
    day28 = clin.get_by_role("row").filter(has_text="28")
    expect(day28.first).to_contain_text("upcoming")
    # The timeline page shows the whole path, custody and signatures included.
    clin.goto(f"{server.url}/episodes/{episode_id}")
    expect(clin.get_by_role("region", name="Vein-to-vein timeline")).to_contain_text("Infused")
