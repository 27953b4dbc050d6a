"""Seeding the demo: reference data, one user per role and place, and about a year of synthetic
episodes spread over every vein-to-vein state, all written through the services (so the demo's
audit trail is as real as production's).

Two kinds of history:

- Recent episodes (referred within about the last 90 days; `FULL_FIDELITY_STATES` says how many
  and which state each is in today) are full records: every step goes through the owning
  domain's service (`cartflow.demo.domains`): the slot booking, the custody hand-offs, the batch
  with its QC results and signed release, consent and eligibility, lymphodepletion, the bedside
  check, the infusion and a CRS/ICANS course. They fill the QC, QP, courier and clinician pages.
- Older episodes (the rest, referred 90 to 400 days ago, now in follow-up, closed or withdrawn)
  keep the shortcut: their steps are plain state changes taken `on_behalf_of` the owning domain,
  with no booking, custody, batch or clinical records behind them.

The random generator is seeded: the same call gives the same network, patients and histories
(the full-fidelity episodes are placed relative to the current time, so their states are the same
on every run, their dates move with the clock).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.audit.service import SYSTEM_ACTOR
from cartflow.auth.actor import Actor
from cartflow.auth.service import RoleGrant, create_user
from cartflow.demo import domains, plan, records, timeline
from cartflow.demo.network import CENTERS, NMRC_SITE, NOVARTIS_SITE, PRODUCTS, SITES
from cartflow.episodes.patients import register_patient
from cartflow.episodes.schemas import EpisodeCreate, PatientCreate, TransitionRequest
from cartflow.episodes.service import apply_transition, refer_episode
from cartflow.episodes.workflow import TRANSITIONS
from cartflow.models import DiseaseStatus, Episode, Patient, Product, Sex, User, WithdrawalReason
from cartflow.network.service import create_center, create_product, create_site

DEMO_PASSWORD = "cartflow-demo"  # noqa: S105 - printed on purpose; the demo holds synthetic data


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    scope: str


def _user(session: Session, username: str, name: str, grant: RoleGrant) -> User:
    return create_user(
        session,
        actor=SYSTEM_ACTOR,
        username=username,
        full_name=name,
        password=DEMO_PASSWORD,
        grants=[grant],
        locale="ru",
    )


_FAMILY_F = ["Иванова", "Смирнова", "Кузнецова", "Попова", "Соколова", "Лебедева", "Козлова"]
_FAMILY_M = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов"]
_GIVEN_F = ["Анна", "Мария", "Елена", "Ольга", "Наталья", "Дарья", "Алиса"]
_GIVEN_M = ["Алексей", "Дмитрий", "Сергей", "Андрей", "Михаил", "Иван", "Артём"]

# The steps an episode takes after referral, with the day (after referral) each typically happens.
_PATH: list[tuple[str, int]] = [
    ("confirm_eligibility", 3),
    ("book_slot", 5),
    ("record_apheresis", 12),
    ("start_manufacturing", 13),
    ("submit_for_qc", 25),
    ("release", 32),
    ("ship", 33),
    ("receive", 35),
    ("start_lymphodepletion", 36),
    ("infuse", 41),
    ("start_follow_up", 69),
    ("close", 400),
]

# Which role (and at which place) takes each step.
_ACTOR_FOR_STEP = {
    "confirm_eligibility": "clinician",
    "book_slot": "coordinator",
    "record_apheresis": "apheresis_nurse",
    "start_manufacturing": "planner",
    "submit_for_qc": "qc_analyst",
    "release": "qualified_person",
    "ship": "courier",
    "receive": "coordinator",
    "start_lymphodepletion": "clinician",
    "infuse": "clinician",
    "start_follow_up": "clinician",
    "close": "coordinator",
}


def seed_demo(
    session: Session,
    *,
    today: dt.date,
    episodes: int = 160,
    seed: int = 20261125,
    progress: Callable[[int, int], None] | None = None,
) -> list[DemoLogin]:
    """Seed an empty database; refuses to seed one that already has users."""
    if session.execute(select(func.count(User.id))).scalar_one():
        raise RuntimeError("the database already has users; the demo seeds only an empty one")
    logins: list[DemoLogin] = []

    def add(username: str, name: str, grant: RoleGrant, scope: str) -> Actor:
        logins.append(DemoLogin(username, grant.role.value, scope))
        return Actor(_user(session, username, name, grant))

    from cartflow.models import Role

    admin = add("admin", "Network Administrator", RoleGrant(Role.ADMIN), "network")
    for site in SITES:
        create_site(session, actor=admin, data=site)
    for center_data in CENTERS:
        create_center(session, actor=admin, data=center_data)
    for product in PRODUCTS:
        create_product(session, actor=admin, data=product)

    actors: dict[tuple[str, str], Actor] = {}
    for center_in in CENTERS:
        slug = center_in.code.lower()
        for role, label in (
            (Role.COORDINATOR, "Coordinator"),
            (Role.APHERESIS_NURSE, "Apheresis Nurse"),
            (Role.CLINICIAN, "Clinician"),
        ):
            actors[(role.value, center_in.code)] = add(
                f"{role.value.split('_')[-1]}.{slug}",
                f"{label}, {center_in.name}",
                RoleGrant(role, center_code=center_in.code),
                center_in.code,
            )
    for site_code in (NMRC_SITE, NOVARTIS_SITE):
        slug = site_code.lower()
        for role, label in (
            (Role.PLANNER, "Planner"),
            (Role.QC_ANALYST, "QC Analyst"),
            (Role.QUALIFIED_PERSON, "Qualified Person"),
        ):
            actors[(role.value, site_code)] = add(
                f"{role.value}.{slug}",
                f"{label}, {site_code}",
                RoleGrant(role, site_code=site_code),
                site_code,
            )
        actors[("qc_analyst2", site_code)] = add(
            f"qc_analyst2.{slug}",
            f"Second QC Analyst, {site_code}",
            RoleGrant(Role.QC_ANALYST, site_code=site_code),
            site_code,
        )
    actors[("courier", "*")] = add("courier", "Network Courier", RoleGrant(Role.COURIER), "network")
    add("analyst", "Registry Analyst", RoleGrant(Role.REGISTRY_ANALYST), "network")

    rng = random.Random(seed)
    now = min(dt.datetime.now(dt.UTC), timeline.at(today, 23.9))
    full = plan.plan_full_fidelity(
        rng, now=now, count=min(episodes, len(plan.FULL_FIDELITY_STATES))
    )
    cast = records.Cast(actors, DEMO_PASSWORD)
    capacity = records.Capacity(
        chairs={c.code: c.apheresis_chairs_per_day for c in CENTERS},
        devices={site.code: [d.code for d in site.devices] for site in SITES},
    )
    done = 0
    # Oldest first, so each device's batches start in the order they were booked.
    for n, planned in enumerate(sorted(full, key=lambda p: p.referred)):
        patient, episode = _refer(
            session, rng=rng, actors=actors, case=planned.case, referred=planned.referred, serial=n
        )
        domains.walk(
            session,
            rng=rng,
            cast=cast,
            capacity=capacity,
            episode=episode,
            patient=patient,
            product=_product(session, planned.case.product_code),
            center=planned.case.center,
            site=planned.case.site,
            transit=planned.case.transit,
            referred=planned.referred,
            now=now,
            severe=planned.severe,
        )
        done += 1
        if progress is not None:
            progress(done, episodes)
    for n in range(len(full), episodes):
        case = plan.draw_case(rng)
        referred = today - dt.timedelta(
            days=plan.LEGACY_MIN_DAYS + int(rng.random() ** 1.5 * (400 - plan.LEGACY_MIN_DAYS))
        )
        _seed_episode(
            session,
            rng=rng,
            actors=actors,
            case=case,
            referred=referred,
            today=today,
            serial=n,
        )
        done += 1
        if progress is not None:
            progress(done, episodes)
    return logins


def _product(session: Session, code: str) -> Product:
    return session.execute(select(Product).where(Product.code == code)).scalar_one()


def _refer(
    session: Session,
    *,
    rng: random.Random,
    actors: dict[tuple[str, str], Actor],
    case: plan.Case,
    referred: dt.date,
    serial: int,
) -> tuple[Patient, Episode]:
    coordinator = actors[("coordinator", case.center)]
    age = case.age
    female = rng.random() < 0.5
    family = rng.choice(_FAMILY_F if female else _FAMILY_M)
    given = rng.choice(_GIVEN_F if female else _GIVEN_M)
    birth = referred - dt.timedelta(days=int(age * 365.25) + rng.randint(20, 340))
    weight = round(rng.uniform(55, 95), 1) if age >= 18 else round(12 + age * 3.2, 1)
    height = round(rng.uniform(155, 190), 0) if age >= 18 else round(85 + age * 5.5, 0)
    patient = register_patient(
        session,
        actor=coordinator,
        data=PatientCreate(
            mrn=f"{case.center[:3]}-{serial:05d}",
            family_name=family,
            given_name=given,
            date_of_birth=birth,
            sex=Sex.FEMALE if female else Sex.MALE,
            weight_kg=weight,
            height_cm=height,
            diagnosis=case.diagnosis,
            disease_status=rng.choice(
                [DiseaseStatus.RELAPSED, DiseaseStatus.REFRACTORY, DiseaseStatus.MRD_POSITIVE]
            ),
            prior_lines_of_therapy=rng.randint(3, 5),
        ),
        is_synthetic=True,
    )
    episode = refer_episode(
        session,
        actor=coordinator,
        data=EpisodeCreate(
            patient_id=patient.id,
            product=case.product_code,
            priority=rng.randint(3, 9),
            earliest_apheresis_date=referred + dt.timedelta(days=7),
            latest_infusion_date=referred + dt.timedelta(days=90),
        ),
        today=referred,
    )
    return patient, episode


def _seed_episode(
    session: Session,
    *,
    rng: random.Random,
    actors: dict[tuple[str, str], Actor],
    case: plan.Case,
    referred: dt.date,
    today: dt.date,
    serial: int,
) -> None:
    """An older episode: its steps are plain state changes on the owning domains' behalf."""
    _patient, episode = _refer(
        session, rng=rng, actors=actors, case=case, referred=referred, serial=serial
    )
    center, product_code, site = case.center, case.product_code, case.site
    # Some patients leave the pathway while they wait: the bottleneck this platform exists for.
    withdraw_at = rng.randrange(1, 10) if rng.random() < 0.1 else None
    stretch = 1.25 if product_code == "TISA" else 1.0
    # A quarter of infused patients leave follow-up early (death, lost to follow-up).
    close_day = rng.randint(100, 330) if rng.random() < 0.25 else 5000
    for index, (step, day) in enumerate(_PATH):
        day = close_day if step == "close" else day
        when = referred + dt.timedelta(days=round(day * stretch) + rng.randint(0, 1))
        if when > today:
            return
        moment = dt.datetime.combine(when, dt.time(9 + index % 8, rng.randint(0, 59)), dt.UTC)
        if withdraw_at == index:
            reason = rng.choice([WithdrawalReason.PROGRESSION, WithdrawalReason.DEATH])
            apply_transition(
                session,
                actor=actors[("clinician", center)],
                episode_id=episode.id,
                request=TransitionRequest(
                    transition="withdraw",
                    withdrawal_reason=reason,
                    reason=f"{reason.value} while waiting (synthetic)",
                ),
                now=moment,
            )
            return
        role = _ACTOR_FOR_STEP[step]
        # Synthetic history: steps that a domain service owns (a signed release, a scanned
        # hand-off, a bedside check) are recorded here as plain state changes on its behalf.
        owner = TRANSITIONS[step].owner
        place = "*" if role == "courier" else site if role in _SITE_ROLES else center
        apply_transition(
            session,
            actor=actors[(role, place)],
            episode_id=episode.id,
            request=TransitionRequest(
                transition=step,
                planned_apheresis_date=(
                    referred + dt.timedelta(days=12) if step == "book_slot" else None
                ),
                reason="follow-up ended: death or lost to follow-up (synthetic)"
                if step == "close"
                else "",
            ),
            now=moment,
            on_behalf_of=owner,
        )


_SITE_ROLES = frozenset({"planner", "qc_analyst", "qualified_person"})
