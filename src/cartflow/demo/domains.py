"""Walking one recent demo episode through the owning domains' services: the booking (scheduling),
every custody hand-off with scans built from the labels' bar code data (logistics), the batch,
its steps, QC results entered by one analyst and verified by the second and the QP's signed
release (manufacturing), and the clinical records (`cartflow.demo.clinical_course`).

Each step happens at its moment from `cartflow.demo.timeline.schedule`, given to the service as
its `now`/time argument. Electronic signatures (the QP's release, the witnessed receipt and
bedside hand-offs, the bedside check) are stamped with the real clock by `sign()`; the steps are
taken in time order so every guard that compares times passes. The walk stops at the first step
whose moment is later than the real present.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.demo import clinical_course as clinical
from cartflow.demo.records import Capacity, Cast, barcode, plan_shipment, quality_control
from cartflow.demo.timeline import APHERESIS_AFTER_DAYS, schedule
from cartflow.episodes.schemas import TransitionRequest
from cartflow.episodes.service import apply_transition
from cartflow.logistics.containers import register_containers
from cartflow.logistics.service import record_handoff
from cartflow.manufacturing import service, steps
from cartflow.manufacturing.disposition import release
from cartflow.manufacturing.schemas import BatchStart, Sign, StepRecord, SubmitForQc
from cartflow.models import Episode, Patient, Product
from cartflow.models.custody import ContainerKind, CustodyContainer, HandoffStep
from cartflow.models.logistics_shipment import ShipmentMaterial
from cartflow.models.manufacturing import StepKind
from cartflow.scheduling.schemas import BookingRequest
from cartflow.scheduling.service import book_slot

K = ContainerKind
H = HandoffStep

# The run's steps as fractions of a 12-day CliniMACS Prodigy process (PMID 29287970).
_PROCESS: list[tuple[StepKind, float, float]] = [
    (StepKind.ACTIVATION, 0.1, 1.0),
    (StepKind.TRANSDUCTION, 1.0, 2.0),
    (StepKind.EXPANSION, 2.0, 11.5),
    (StepKind.HARVEST, 11.5, 11.6),
    (StepKind.FORMULATION, 11.6, 11.7),
    (StepKind.CRYOPRESERVATION, 11.7, 11.8),
]


def walk(
    session: Session,
    *,
    rng: random.Random,
    cast: Cast,
    capacity: Capacity,
    episode: Episode,
    patient: Patient,
    product: Product,
    center: str,
    site: str,
    transit: int,
    referred: dt.date,
    now: dt.datetime,
    severe: bool = False,
) -> None:
    """Take the episode through every step whose moment is not after `now`."""
    try:
        _walk(
            session,
            rng=rng,
            cast=cast,
            capacity=capacity,
            episode=episode,
            patient=patient,
            product=product,
            center=center,
            site=site,
            transit=transit,
            referred=referred,
            now=now,
            severe=severe,
        )
    except clinical.NotYet:
        return


def _walk(
    session: Session,
    *,
    rng: random.Random,
    cast: Cast,
    capacity: Capacity,
    episode: Episode,
    patient: Patient,
    product: Product,
    center: str,
    site: str,
    transit: int,
    referred: dt.date,
    now: dt.datetime,
    severe: bool,
) -> None:
    check = clinical.Clock(now)
    coordinator = cast.center("coordinator", center)
    nurse = cast.center("apheresis_nurse", center)
    clinician = cast.center("clinician", center)
    planner = cast.site("planner", site)

    # The steps up to the booking do not depend on its dates; the rest follow the booking.
    first = schedule(
        referred=referred,
        apheresis=referred,
        manufacturing_start=referred,
        manufacturing_days=product.manufacturing_days,
        qc_days=product.qc_days,
        transit=transit,
    )
    check(first["consent"])
    clinical.consent_and_eligibility(
        session,
        clinician=clinician,
        coordinator=coordinator,
        episode=episode,
        patient=patient,
        consent_on=first["consent"].date(),
        assessed_at=first["eligibility"],
        check=check,
    )

    check(first["book"])
    apheresis = capacity.apheresis_day(center, referred + dt.timedelta(days=APHERESIS_AFTER_DAYS))
    device, start = capacity.device(site, apheresis + dt.timedelta(days=transit))
    booking = book_slot(
        session,
        actor=coordinator,
        episode_id=episode.id,
        request=BookingRequest(apheresis_date=apheresis, device=device, manufacturing_start=start),
        now=first["book"],
    )
    last = start + dt.timedelta(days=product.manufacturing_days - 1)
    capacity.book(center, apheresis, device, last)
    m = schedule(
        referred=referred,
        apheresis=booking.apheresis_date,
        manufacturing_start=booking.manufacturing_start,
        manufacturing_days=product.manufacturing_days,
        qc_days=product.qc_days,
        transit=transit,
    )

    def scan(
        actor: Actor,
        step: HandoffStep,
        containers: list[CustodyContainer],
        moment: str,
        *,
        witness: Actor | None = None,
        temperature_c: float | None = None,
    ) -> None:
        check(m[moment])
        outcome = record_handoff(
            session,
            actor=actor,
            episode_id=episode.id,
            step=step,
            scans=[barcode(c) for c in containers],
            location=f"{step.value} desk",
            witness=cast.witness(witness) if witness else None,
            now=m[moment],
            temperature_c=temperature_c,
        )
        if outcome.refusal is not None:
            raise RuntimeError(f"demo hand-off refused: {outcome.refusal.message}")

    # Apheresis: the nurse labels and scans the collection bag; the courier takes it to the site.
    check(m["label_collection"])
    bags = register_containers(
        session,
        actor=nurse,
        episode_id=episode.id,
        kind=K.COLLECTION_BAG,
        now=m["label_collection"],
    )
    scan(nurse, H.COLLECTION, bags, "collection")
    check(m["plan_apheresis_shipment"])
    fresh = product.fresh_apheresis_max_hours is not None
    plan_shipment(
        session,
        actor=coordinator,
        episode=episode,
        material=ShipmentMaterial.FRESH_APHERESIS
        if fresh
        else ShipmentMaterial.CRYOPRESERVED_APHERESIS,
        departure=m["apheresis_pickup"],
        arrival=m["site_receipt"],
        serial=f"AP-{episode.chain_of_identity}",
    )
    scan(cast.courier, H.APHERESIS_PICKUP, bags, "apheresis_pickup")
    scan(planner, H.SITE_RECEIPT, bags, "site_receipt", temperature_c=4.0 if fresh else -160.0)

    # Manufacturing on the booked device, each step at its time.
    check(m["start_batch"])
    batch = service.start_batch(
        session,
        actor=planner,
        data=BatchStart(episode_id=episode.id, device=device, received_at=m["site_receipt"]),
        now=m["start_batch"],
    )
    scale = product.manufacturing_days / 12
    for kind, begin, end in _PROCESS:
        started = m["site_receipt"] + dt.timedelta(days=begin * scale)
        completed = m["site_receipt"] + dt.timedelta(days=end * scale)
        check(completed)
        steps.record_step(
            session,
            actor=planner,
            batch_id=batch.id,
            data=StepRecord(step=kind, started_at=started, completed_at=completed),
            now=completed,
        )
    check(m["label_product"])
    product_bags = [
        *register_containers(
            session,
            actor=planner,
            episode_id=episode.id,
            kind=K.PRODUCT_BAG,
            now=m["label_product"],
        ),
        *register_containers(
            session,
            actor=planner,
            episode_id=episode.id,
            kind=K.CASSETTE,
            now=m["label_product"],
        ),
    ]
    scan(planner, H.CRYOPRESERVATION, product_bags, "cryo_scan")
    check(m["submit_for_qc"])
    batch = service.submit_for_qc(
        session, actor=planner, batch_id=batch.id, data=SubmitForQc(), now=m["submit_for_qc"]
    )
    quality_control(
        session,
        rng=rng,
        cast=cast,
        site=site,
        batch_id=batch.id,
        m=m,
        check=check,
        patient=patient,
        product=product,
    )

    check(m["release"])
    release(
        session,
        actor=cast.site("qualified_person", site),
        batch_id=batch.id,
        data=Sign(password=cast.password, reason="all results within specification"),
        now=m["release"],
    )
    scan(cast.site("qualified_person", site), H.RELEASE, product_bags, "release_scan")

    # The frozen product travels to the center in a dry shipper, received by two people.
    check(m["label_shipper"])
    shipper = register_containers(
        session, actor=planner, episode_id=episode.id, kind=K.SHIPPER, now=m["label_shipper"]
    )
    plan_shipment(
        session,
        actor=planner,
        episode=episode,
        material=ShipmentMaterial.CRYOPRESERVED_PRODUCT,
        departure=m["product_pickup"],
        arrival=m["center_receipt"],
        serial=f"DS-{episode.chain_of_identity}",
    )
    scan(cast.courier, H.PRODUCT_PICKUP, [*product_bags, *shipper], "product_pickup")
    everything = [*product_bags, *shipper]
    scan(
        coordinator,
        H.CENTER_RECEIPT,
        everything,
        "center_receipt",
        witness=clinician,
        temperature_c=-175.0,
    )
    scan(nurse, H.STORAGE, product_bags, "storage")

    # The ward: lymphodepletion, the bag used at the bedside, the infusion and its course.
    day0 = m["infusion"]
    clinical.lymphodepletion(
        session,
        clinician=clinician,
        episode=episode,
        day0=day0,
        planned_at=m["ld_plan"],
        regimen=clinical.ld_regimen(product.code, patient.diagnosis),
        check=check,
    )
    scan(clinician, H.BEDSIDE, product_bags[:1], "bedside_scan", witness=nurse)
    clinical.bedside_and_infusion(
        session,
        nurse=nurse,
        clinician=clinician,
        episode=episode,
        patient=patient,
        product=product,
        password=cast.password,
        day0=day0,
        check=check,
    )
    age = int((referred - patient.date_of_birth).days / 365.25)
    course = clinical.draw_course(rng, age=age, severe=severe)
    clinical.toxicity_course(
        session, clinician=clinician, episode=episode, course=course, age=age, day0=day0, now=now
    )
    check(m["follow_up"])
    apply_transition(
        session,
        actor=clinician,
        episode_id=episode.id,
        request=TransitionRequest(transition="start_follow_up"),
        now=m["follow_up"],
    )
