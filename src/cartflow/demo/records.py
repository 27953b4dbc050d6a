"""Building the demo's records: container scans from the labels' bar code data, QC results
within the products' specifications entered and verified by two analysts, planned shipments, and
the capacity (chairs, devices) and people (`Cast`) the full-fidelity walk books and acts as."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cartflow.auth.actor import Actor
from cartflow.demo.clinical_course import Clock
from cartflow.identity.isbt128 import ChainOfIdentityId, Din, ProductCode
from cartflow.identity.scan import expiry_barcode_data
from cartflow.logistics.schemas import ShipmentCreate
from cartflow.logistics.service import Witness
from cartflow.logistics.shipments import create_shipment
from cartflow.manufacturing import qc, service
from cartflow.manufacturing.schemas import QcResultIn
from cartflow.models import Diagnosis, Episode, Patient, Product
from cartflow.models.custody import CustodyContainer
from cartflow.models.logistics_shipment import ShipmentMaterial
from cartflow.models.manufacturing_qc import QcResult


@dataclass
class Capacity:
    """Apheresis chairs and manufacturing devices already booked by the demo's full episodes.

    Each device is given only batches that start after its last one, so a batch the walk starts
    in the past never finds its device still occupied by a batch that is running today."""

    chairs: dict[str, int]
    devices: dict[str, list[str]]
    used_chairs: Counter[tuple[str, dt.date]] = field(default_factory=Counter)
    last_day: dict[str, dt.date] = field(default_factory=dict)

    def apheresis_day(self, center: str, earliest: dt.date) -> dt.date:
        day = earliest
        while self.used_chairs[(center, day)] >= self.chairs[center]:
            day += dt.timedelta(days=1)
        return day

    def device(self, site: str, start: dt.date) -> tuple[str, dt.date]:
        """The least recently used device free from `start` on (or the day it becomes free)."""
        never = dt.date.min
        code = min(self.devices[site], key=lambda c: (self.last_day.get(c, never), c))
        free_from = self.last_day.get(code, never) + dt.timedelta(days=1)
        return code, max(start, free_from)

    def book(self, center: str, day: dt.date, device: str, last_day: dt.date) -> None:
        self.used_chairs[(center, day)] += 1
        self.last_day[device] = last_day


@dataclass
class Cast:
    """The demo's users by (role, place); `password` signs for every one of them."""

    actors: dict[tuple[str, str], Actor]
    password: str

    def center(self, role: str, code: str) -> Actor:
        return self.actors[(role, code)]

    def site(self, role: str, code: str) -> Actor:
        return self.actors[(role, code)]

    @property
    def courier(self) -> Actor:
        return self.actors[("courier", "*")]

    def witness(self, actor: Actor) -> Witness:
        return Witness(actor.user.username, self.password)


def barcode(container: CustodyContainer) -> str:
    """The structures on the container's label, concatenated as one bar code read."""
    parts = [Din.parse(container.din).barcode_data("00")]
    if container.product_code:
        parts.append(ProductCode(container.product_code).barcode_data())
    if container.expires_at is not None:
        zone = ZoneInfo(container.label_timezone)
        parts.append(expiry_barcode_data(container.expires_at, zone))
    parts.append(ChainOfIdentityId.parse(container.chain_of_identity).barcode_data())
    return "".join(parts)


def qc_value(test: str, *, rng: random.Random, patient: Patient, product: str) -> float | str:
    """A result within the demo products' specifications (cartflow.demo.network)."""
    words = {
        "appearance": "conforms",
        "sterility": "no growth",
        "mycoplasma": "not detected",
        "replication_competent_lentivirus": "not detected",
    }
    if test in words:
        return words[test]
    if test == "car_t_dose":
        if product != "TISA":
            return round(patient.weight_kg * rng.uniform(1.0, 2.5) * 1e6, -4)
        if patient.diagnosis is Diagnosis.B_ALL:
            if patient.weight_kg <= 50:
                return round(patient.weight_kg * rng.uniform(1.0, 3.0) * 1e6, -4)
            return round(rng.uniform(0.5, 2.0) * 1e8, -4)
        return round(rng.uniform(1.5, 4.5) * 1e8, -4)
    ranges = {
        "car_positive_percent": (22.0, 48.0),
        "cd3_positive_percent": (85.0, 98.5),
        "viability_percent": (84.0, 97.0),
        "endotoxin_eu_per_ml": (0.05, 0.4),
        "vector_copy_number_per_cell": (0.8, 3.5),
    }
    low, high = ranges[test]
    return round(rng.uniform(low, high), 2)


def quality_control(
    session: Session,
    *,
    rng: random.Random,
    cast: Cast,
    site: str,
    batch_id: uuid.UUID,
    m: dict[str, dt.datetime],
    check: Clock,
    patient: Patient,
    product: Product,
) -> None:
    """Results come in over the QC days; the second analyst verifies each some hours later."""
    spec = service.current_specification(session, product.id)
    assert spec is not None  # submit_for_qc refuses a product without one
    tests = sorted(spec.criteria)
    begin, end = m["submit_for_qc"], m["release"] - dt.timedelta(hours=2)
    span = end - begin
    events: list[tuple[dt.datetime, int, str]] = []
    for test in tests:
        entered = begin + span * rng.uniform(0.1, 0.75)
        events.append((entered, 0, test))
        events.append((min(entered + dt.timedelta(hours=rng.uniform(3, 30)), end), 1, test))
    results: dict[str, QcResult] = {}
    for moment, kind, test in sorted(events):
        check(moment)
        if kind == 0:
            value = qc_value(test, rng=rng, patient=patient, product=product.code)
            results[test] = qc.enter_result(
                session,
                actor=cast.site("qc_analyst", site),
                batch_id=batch_id,
                data=QcResultIn(test=test, value=value),
                now=moment,
            )
        else:
            result = results[test]
            qc.verify_result(
                session,
                actor=cast.site("qc_analyst2", site),
                result_id=result.id,
                now=moment,
            )


def plan_shipment(
    session: Session,
    *,
    actor: Actor,
    episode: Episode,
    material: ShipmentMaterial,
    departure: dt.datetime,
    arrival: dt.datetime,
    serial: str,
) -> None:
    create_shipment(
        session,
        actor=actor,
        episode_id=episode.id,
        data=ShipmentCreate(
            material=material,
            shipper_serial=serial[:64],
            courier="MedLogistic (synthetic)",
            planned_departure_at=departure,
            planned_arrival_at=arrival,
        ),
    )
