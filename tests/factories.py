"""Typed factories for synthetic test data. They build records directly (test set-up), while the
behaviour under test always goes through the services or the HTTP API."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session

from cartflow.auth.passwords import hash_password
from cartflow.db.base import utcnow
from cartflow.models import (
    AuthSession,
    CenterSiteRoute,
    Device,
    Diagnosis,
    DiseaseStatus,
    Episode,
    EpisodeState,
    ManufacturingSite,
    Patient,
    PatientPopulation,
    Product,
    ProductIndication,
    ProductKind,
    Role,
    RoleAssignment,
    Sex,
    TreatmentCenter,
    User,
)

PASSWORD = "correct-horse-battery"


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Argon2 is slow on purpose; hash the shared test password once.
    return hash_password(PASSWORD)


@dataclass
class Network:
    site: ManufacturingSite
    center_a: TreatmentCenter
    center_b: TreatmentCenter
    product: Product


def make_site(session: Session, *, code: str, fin: str) -> ManufacturingSite:
    site = ManufacturingSite(
        code=code,
        name=f"Site {code}",
        city="Moscow",
        facility_identification_number=fin,
        qc_release_capacity_per_day=3,
    )
    session.add(site)
    session.flush()
    session.add(Device(site_id=site.id, code="DEV-1", kind="CliniMACS Prodigy"))
    session.flush()
    return site


def make_center(session: Session, *, code: str, site: ManufacturingSite) -> TreatmentCenter:
    center = TreatmentCenter(
        code=code,
        name=f"Center {code}",
        city="Moscow",
        population=PatientPopulation.BOTH,
        apheresis_chairs_per_day=2,
        infusion_beds_per_day=4,
    )
    session.add(center)
    session.flush()
    session.add(CenterSiteRoute(center_id=center.id, site_id=site.id, transit_days=1))
    session.flush()
    return center


def make_product(session: Session, *, code: str, site: ManufacturingSite) -> Product:
    product = Product(
        code=code,
        name=f"Product {code}",
        inn="testleucel",
        kind=ProductKind.ACADEMIC,
        holder="Test holder",
        target_antigen="CD19",
        isbt_product_code="S1234000",
        manufacturing_site_id=site.id,
        manufacturing_days=12,
        qc_days=3,
        shelf_life_days=270,
        storage_temperature_max_c=-120,
        post_thaw_window_minutes=30,
        fresh_apheresis_max_hours=48,
    )
    session.add(product)
    session.flush()
    session.add(
        ProductIndication(
            product_id=product.id, diagnosis=Diagnosis.B_ALL, min_age_years=3, max_age_years=25
        )
    )
    session.add(
        ProductIndication(
            product_id=product.id,
            diagnosis=Diagnosis.DLBCL,
            min_age_years=18,
            max_age_years=None,
            min_prior_lines=2,
        )
    )
    session.flush()
    return product


def make_network(session: Session, suffix: str) -> Network:
    fin = "A" + str(int(suffix, 16) % 10_000).zfill(4)
    site = make_site(session, code=f"SITE-{suffix}", fin=fin)
    return Network(
        site=site,
        center_a=make_center(session, code=f"CA-{suffix}", site=site),
        center_b=make_center(session, code=f"CB-{suffix}", site=site),
        product=make_product(session, code=f"PROD-{suffix}", site=site),
    )


def make_user(
    session: Session,
    role: Role,
    *,
    center: TreatmentCenter | None = None,
    site: ManufacturingSite | None = None,
    username: str | None = None,
) -> User:
    user = User(
        username=username or f"{role.value}-{uuid.uuid4().hex[:8]}",
        full_name=f"Test {role.value.replace('_', ' ').title()}",
        password_hash=_password_hash(),
    )
    user.roles.append(
        RoleAssignment(
            role=role,
            center_id=center.id if center else None,
            site_id=site.id if site else None,
        )
    )
    session.add(user)
    session.flush()
    return user


def token_for(session: Session, user: User) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AuthSession(
            token_sha256=hashlib.sha256(token.encode()).hexdigest(),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=1),
        )
    )
    session.flush()
    return token


def auth(session: Session, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(session, user)}"}


def make_patient(
    session: Session,
    center: TreatmentCenter,
    *,
    diagnosis: Diagnosis = Diagnosis.B_ALL,
    age_years: int = 12,
    prior_lines: int = 2,
) -> Patient:
    today = dt.date.today()  # noqa: DTZ011 - ages are in calendar days
    patient = Patient(
        pseudonym="P-" + uuid.uuid4().hex[:8].upper(),
        center_id=center.id,
        mrn=uuid.uuid4().hex[:10],
        family_name="Synthetic",
        given_name="Patient",
        date_of_birth=today - dt.timedelta(days=int(age_years * 365.25) + 30),
        sex=Sex.FEMALE,
        weight_kg=40.0,
        height_cm=150.0,
        diagnosis=diagnosis,
        disease_status=DiseaseStatus.RELAPSED,
        prior_lines_of_therapy=prior_lines,
        is_synthetic=True,
    )
    session.add(patient)
    session.flush()
    return patient


# The path from referral, with the role (and place) that takes each step.
_PATH: list[tuple[str, Role, str]] = [
    ("confirm_eligibility", Role.CLINICIAN, "center"),
    ("book_slot", Role.COORDINATOR, "center"),
    ("record_apheresis", Role.APHERESIS_NURSE, "center"),
    ("start_manufacturing", Role.PLANNER, "site"),
    ("submit_for_qc", Role.QC_ANALYST, "site"),
    ("release", Role.QUALIFIED_PERSON, "site"),
    ("ship", Role.COURIER, "network"),
    ("receive", Role.COORDINATOR, "center"),
    ("start_lymphodepletion", Role.CLINICIAN, "center"),
    ("infuse", Role.CLINICIAN, "center"),
    ("start_follow_up", Role.CLINICIAN, "center"),
]


def make_episode(
    session: Session,
    net: Network,
    *,
    state: EpisodeState = EpisodeState.REFERRED,
    patient: Patient | None = None,
    center: TreatmentCenter | None = None,
) -> Episode:
    """An episode of `net.product` walked through the services up to `state` (test set-up: steps
    owned by a domain service are taken on its behalf, without that domain's records)."""
    from cartflow.auth.actor import Actor
    from cartflow.episodes.schemas import EpisodeCreate, TransitionRequest
    from cartflow.episodes.service import apply_transition, refer_episode
    from cartflow.episodes.workflow import TRANSITIONS

    center = center or net.center_a
    patient = patient or make_patient(session, center)
    today = dt.date.today()  # noqa: DTZ011
    people: dict[tuple[Role, str], Actor] = {}

    def person(role: Role, where: str) -> Actor:
        if (role, where) not in people:
            scope = {"center": {"center": center}, "site": {"site": net.site}, "network": {}}[where]
            people[(role, where)] = Actor(make_user(session, role, **scope))  # type: ignore[arg-type]
        return people[(role, where)]

    episode = refer_episode(
        session,
        actor=person(Role.COORDINATOR, "center"),
        data=EpisodeCreate(
            patient_id=patient.id,
            product=net.product.code,
            earliest_apheresis_date=today,
            latest_infusion_date=today + dt.timedelta(days=60),
        ),
    )
    for name, role, where in _PATH:
        if episode.state is state:
            break
        apply_transition(
            session,
            actor=person(role, where),
            episode_id=episode.id,
            request=TransitionRequest(
                transition=name,
                planned_apheresis_date=today if name == "book_slot" else None,
            ),
            on_behalf_of=TRANSITIONS[name].owner,
        )
    assert episode.state is state, f"could not walk the episode to {state}"
    return episode
