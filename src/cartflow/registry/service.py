"""Registry estimates for a cohort, from the clinical records, through the pure estimators.

- Overall survival is measured from day 0 (the infusion) to death from any cause (the death
  record); a living patient is censored at the last contact on record (a follow-up visit, a
  response assessment, a relapse or progression, a toxicity assessment; day 0 if nothing since)
  or, with ``censor="today"``, administratively at today's date. Times are whole days.
- Relapse incidence (Aalen-Johansen, `cif.py`) counts the first relapse or progression (cause 1)
  with non-relapse mortality, death without a prior relapse, as the competing event (cause 2),
  as CIBMTR reports them (Iacobelli S, Bone Marrow Transplant 2013;48:S1-S37, "Suggestions on the
  use of statistical methodologies in studies of the EBMT", section 3.3). A disease death without
  a recorded relapse counts as a relapse on the day of death.
- Response: best response among the assessments nobody superseded, mapped to the short categories
  of `proportions.py` (Lugano 2014, IMWG 2016, B-ALL CR/CRi); an infused patient without an
  assessment is not evaluable.
- CRS/ICANS: maximum ASTCT grade over current assessments; no assessment = not reported.
- Vein-to-vein: calendar days from apheresis collection to infusion at the treating center.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.models.clinical_outcome import (
    DeathRecord,
    DiseaseEvent,
    FollowUpVisit,
    ResponseAssessment,
)
from cartflow.models.clinical_toxicity import ToxicityAssessment
from cartflow.registry.cohorts import CohortMember, GroupBy
from cartflow.registry.followup_windows import FollowUpSubject, FollowUpTrack
from cartflow.registry.outcome_times import (
    COMPLETE,
    RESPONDERS,
    SHORT_RESPONSE,
    Endpoint,
    PatientHistory,
    endpoint_time,
)
from cartflow.registry.proportions import (
    GradeRate,
    QuartileSummary,
    ResponseRates,
    grade_rate,
    median_quartiles,
    response_rates,
)
from cartflow.registry.records import (
    DiagnosisRecord,
    PatientRecord,
    ProcedureRecord,
    ProductRecord,
    RegistryExport,
    ResponseRecord,
    ToxicityRecord,
)
from cartflow.registry.summaries import CIFReport, cif_by_group, cif_report

Censoring = Literal["last_contact", "today"]
_Row = TypeVar("_Row", ResponseAssessment, ToxicityAssessment)
RELAPSE, NON_RELAPSE_MORTALITY = 1, 2


@dataclass(frozen=True)
class SurvivalTimes:
    """Per infused patient: days from infusion and the event code (see the module docstring)."""

    pseudonyms: tuple[str, ...]
    days: tuple[float, ...]
    events: tuple[int, ...]


@dataclass(frozen=True)
class CohortSummary:
    infused: int
    response: ResponseRates | None
    crs_grade3: GradeRate | None
    icans_grade3: GradeRate | None
    vein_to_vein_days: QuartileSummary | None
    relapse_incidence: CIFReport | None


def infused(members: Iterable[CohortMember]) -> list[CohortMember]:
    return [m for m in members if m.infused_on is not None]


def _deaths(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, DeathRecord]:
    rows = session.execute(select(DeathRecord).where(DeathRecord.episode_id.in_(ids))).scalars()
    return {row.episode_id: row for row in rows}


def _first_relapse(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, dt.date]:
    rows = session.execute(
        select(DiseaseEvent.episode_id, func.min(DiseaseEvent.occurred_on))
        .where(DiseaseEvent.episode_id.in_(ids))
        .group_by(DiseaseEvent.episode_id)
    )
    return {episode_id: day for episode_id, day in rows}


def _last_contact(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, dt.date]:
    latest: dict[uuid.UUID, dt.date] = {}

    def keep(episode_id: uuid.UUID, day: dt.date | None) -> None:
        if day is not None and (episode_id not in latest or day > latest[episode_id]):
            latest[episode_id] = day

    for table, column in (
        (FollowUpVisit, FollowUpVisit.completed_on),
        (ResponseAssessment, ResponseAssessment.assessed_on),
        (DiseaseEvent, DiseaseEvent.occurred_on),
    ):
        for episode_id, day in session.execute(
            select(table.episode_id, func.max(column))
            .where(table.episode_id.in_(ids))
            .group_by(table.episode_id)
        ):
            keep(episode_id, day)
    for episode_id, moment in session.execute(
        select(ToxicityAssessment.episode_id, func.max(ToxicityAssessment.assessed_at))
        .where(ToxicityAssessment.episode_id.in_(ids))
        .group_by(ToxicityAssessment.episode_id)
    ):
        # UTC date: a day's shift at most, and only where no later dated contact exists.
        keep(episode_id, moment.date() if moment is not None else None)
    return latest


def _censor_day(
    member: CohortMember, contacts: dict[uuid.UUID, dt.date], censor: Censoring, today: dt.date
) -> dt.date:
    assert member.infused_on is not None
    if censor == "today":
        return today
    return max(contacts.get(member.episode_id, member.infused_on), member.infused_on)


def overall_survival(
    session: Session,
    members: Iterable[CohortMember],
    *,
    today: dt.date,
    censor: Censoring = "last_contact",
) -> SurvivalTimes:
    """Days from infusion to death (event 1) or censoring (0), per infused patient."""
    cohort = infused(members)
    ids = [m.episode_id for m in cohort]
    deaths = _deaths(session, ids)
    contacts = _last_contact(session, ids)
    days: list[float] = []
    events: list[int] = []
    for member in cohort:
        assert member.infused_on is not None
        death = deaths.get(member.episode_id)
        end = death.died_on if death else _censor_day(member, contacts, censor, today)
        days.append(float((end - member.infused_on).days))
        events.append(1 if death else 0)
    return SurvivalTimes(tuple(m.pseudonym for m in cohort), tuple(days), tuple(events))


def relapse_competing(
    session: Session,
    members: Iterable[CohortMember],
    *,
    today: dt.date,
    censor: Censoring = "last_contact",
) -> SurvivalTimes:
    """Days to the first relapse/progression (1), non-relapse death (2) or censoring (0)."""
    cohort = infused(members)
    ids = [m.episode_id for m in cohort]
    deaths = _deaths(session, ids)
    relapses = _first_relapse(session, ids)
    contacts = _last_contact(session, ids)
    days: list[float] = []
    events: list[int] = []
    for member in cohort:
        assert member.infused_on is not None
        relapse = relapses.get(member.episode_id)
        death = deaths.get(member.episode_id)
        if relapse is not None and (death is None or relapse <= death.died_on):
            end, code = relapse, RELAPSE
        elif death is not None:
            end = death.died_on
            code = NON_RELAPSE_MORTALITY if death.non_relapse_mortality else RELAPSE
        else:
            end, code = _censor_day(member, contacts, censor, today), 0
        days.append(float((end - member.infused_on).days))
        events.append(code)
    return SurvivalTimes(tuple(m.pseudonym for m in cohort), tuple(days), tuple(events))


@dataclass(frozen=True)
class EndpointTimes:
    """One end point's times per patient in its analysis, with each patient's group label."""

    endpoint: Endpoint
    pseudonyms: tuple[str, ...]
    days: tuple[float, ...]
    events: tuple[int, ...]
    groups: tuple[str, ...]
    left_out: int
    """Infused patients outside the analysis: EFS undefined for the disease; DOR non-responders."""


def _progressions(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dt.date]]:
    found: dict[uuid.UUID, list[dt.date]] = {}
    for episode_id, day in session.execute(
        select(DiseaseEvent.episode_id, DiseaseEvent.occurred_on).where(
            DiseaseEvent.episode_id.in_(ids)
        )
    ):
        found.setdefault(episode_id, []).append(day)
    return found


def _responses(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ResponseAssessment]]:
    rows = _current(
        list(
            session.execute(
                select(ResponseAssessment).where(ResponseAssessment.episode_id.in_(ids))
            ).scalars()
        )
    )
    found: dict[uuid.UUID, list[ResponseAssessment]] = {}
    for row in rows:
        found.setdefault(row.episode_id, []).append(row)
    return found


def histories(
    session: Session,
    members: Iterable[CohortMember],
    *,
    today: dt.date,
    censor: Censoring = "last_contact",
) -> list[tuple[CohortMember, PatientHistory]]:
    """Each infused member with the outcome history its end points are computed from."""
    cohort = infused(members)
    ids = [m.episode_id for m in cohort]
    deaths = _deaths(session, ids)
    progressions = _progressions(session, ids)
    responses = _responses(session, ids)
    contacts = _last_contact(session, ids)
    out = []
    for member in cohort:
        assert member.infused_on is not None
        death = deaths.get(member.episode_id)
        out.append(
            (
                member,
                PatientHistory(
                    diagnosis=member.diagnosis,
                    infused_on=member.infused_on,
                    censor_on=_censor_day(member, contacts, censor, today),
                    responses=tuple(
                        (r.assessed_on, r.response) for r in responses.get(member.episode_id, [])
                    ),
                    progressions=tuple(progressions.get(member.episode_id, [])),
                    died_on=death.died_on if death is not None else None,
                ),
            )
        )
    return out


def endpoint_times(
    session: Session,
    members: Iterable[CohortMember],
    *,
    endpoint: Endpoint,
    today: dt.date,
    censor: Censoring = "last_contact",
    group_by: GroupBy = GroupBy.NONE,
) -> EndpointTimes:
    """OS, PFS, EFS or DOR times (`outcome_times`) of the infused members, with their groups."""
    pseudonyms: list[str] = []
    days: list[float] = []
    events: list[int] = []
    groups: list[str] = []
    left_out = 0
    for member, history in histories(session, members, today=today, censor=censor):
        time = endpoint_time(endpoint, history)
        if time is None:
            left_out += 1
            continue
        pseudonyms.append(member.pseudonym)
        days.append(time.days)
        events.append(time.event)
        groups.append(member.group(group_by))
    return EndpointTimes(
        endpoint, tuple(pseudonyms), tuple(days), tuple(events), tuple(groups), left_out
    )


def follow_up_subjects(session: Session, members: Iterable[CohortMember]) -> list[FollowUpSubject]:
    """The infused members as CIBMTR follow-up subjects: every dated contact on record, follow-up
    ending at death; genetically modified products on the 15-year track, others standard."""
    cohort = infused(members)
    ids = [m.episode_id for m in cohort]
    deaths = _deaths(session, ids)
    dates: dict[uuid.UUID, set[dt.date]] = {}
    for table, column in (
        (FollowUpVisit, FollowUpVisit.completed_on),
        (ResponseAssessment, ResponseAssessment.assessed_on),
        (DiseaseEvent, DiseaseEvent.occurred_on),
    ):
        for episode_id, day in session.execute(
            select(table.episode_id, column).where(table.episode_id.in_(ids))
        ):
            dates.setdefault(episode_id, set()).add(day)
    for episode_id, moment in session.execute(
        select(ToxicityAssessment.episode_id, ToxicityAssessment.assessed_at).where(
            ToxicityAssessment.episode_id.in_(ids)
        )
    ):
        dates.setdefault(episode_id, set()).add(moment.date())
    subjects = []
    for member in cohort:
        assert member.infused_on is not None
        death = deaths.get(member.episode_id)
        if death is not None:
            # A recipient's last contact is the date of death (CIBMTR, "Determining contact dates").
            dates.setdefault(member.episode_id, set()).add(death.died_on)
        subjects.append(
            FollowUpSubject(
                patient_id=member.pseudonym,
                infusion_date=member.infused_on,
                track=(
                    FollowUpTrack.FIFTEEN_YEAR if member.gene_modified else FollowUpTrack.STANDARD
                ),
                contact_dates=tuple(sorted(dates.get(member.episode_id, ()))),
                end_date=death.died_on if death is not None else None,
            )
        )
    return subjects


def _current(rows: list[_Row]) -> list[_Row]:
    superseded = {r.supersedes_id for r in rows if r.supersedes_id is not None}
    return [r for r in rows if r.id not in superseded]


def best_responses(session: Session, members: Iterable[CohortMember]) -> list[str | None]:
    """Best short response category per infused patient (None: no assessment on record)."""
    cohort = infused(members)
    rows = _current(
        list(
            session.execute(
                select(ResponseAssessment).where(
                    ResponseAssessment.episode_id.in_([m.episode_id for m in cohort])
                )
            ).scalars()
        )
    )
    by_episode: dict[uuid.UUID, list[str]] = {}
    for row in rows:
        by_episode.setdefault(row.episode_id, []).append(SHORT_RESPONSE.get(row.response, "NR"))
    best: list[str | None] = []
    for member in cohort:
        codes = by_episode.get(member.episode_id)
        if not codes:
            best.append(None)
        else:
            best.append(
                next((c for c in codes if c in COMPLETE), None)
                or next((c for c in codes if c in RESPONDERS), None)
                or "NR"
            )
    return best


def max_grades(
    session: Session, members: Iterable[CohortMember]
) -> tuple[list[int | None], list[int | None]]:
    """Maximum CRS and ICANS grades per infused patient (None: not reported)."""
    cohort = infused(members)
    rows = _current(
        list(
            session.execute(
                select(ToxicityAssessment).where(
                    ToxicityAssessment.episode_id.in_([m.episode_id for m in cohort])
                )
            ).scalars()
        )
    )
    crs: dict[uuid.UUID, int] = {}
    icans: dict[uuid.UUID, int] = {}
    for row in rows:
        if row.crs_grade is not None:
            crs[row.episode_id] = max(crs.get(row.episode_id, 0), row.crs_grade)
        if row.icans_grade is not None:
            icans[row.episode_id] = max(icans.get(row.episode_id, 0), row.icans_grade)
    return [crs.get(m.episode_id) for m in cohort], [icans.get(m.episode_id) for m in cohort]


def vein_to_vein_days(members: Iterable[CohortMember]) -> list[float]:
    return [
        float((m.infused_on - m.apheresis_collected_on).days)
        for m in members
        if m.infused_on is not None and m.apheresis_collected_on is not None
    ]


def summarise(
    session: Session,
    members: list[CohortMember],
    *,
    today: dt.date,
    censor: Censoring = "last_contact",
) -> CohortSummary:
    """Rates, vein-to-vein time and relapse incidence; a part without data is None."""
    responses = best_responses(session, members)
    crs, icans = max_grades(session, members)
    v2v = vein_to_vein_days(members)
    relapse = relapse_competing(session, members, today=today, censor=censor)
    has_response = any(r is not None for r in responses)
    return CohortSummary(
        infused=len(infused(members)),
        response=(
            response_rates(responses, responders=RESPONDERS, complete=COMPLETE)
            if has_response
            else None
        ),
        crs_grade3=grade_rate(crs) if any(g is not None for g in crs) else None,
        icans_grade3=grade_rate(icans) if any(g is not None for g in icans) else None,
        vein_to_vein_days=median_quartiles(v2v) if v2v else None,
        relapse_incidence=(
            cif_report(cif_by_group(relapse.days, relapse.events)) if relapse.days else None
        ),
    )


# --- Export records ----------------------------------------------------------------------------

# WHO ICD-10 (2019) codes. ICD-10 has no high-grade B-cell lymphoma (double/triple hit) code;
# registries code it under "other specified types of non-Hodgkin lymphoma".
ICD10 = {
    "B-ALL": ("C91.0", "Acute lymphoblastic leukaemia"),
    "DLBCL": ("C83.3", "Diffuse large B-cell lymphoma"),
    "PMBCL": ("C85.2", "Mediastinal (thymic) large B-cell lymphoma"),
    "HGBCL": ("C85.7", "Other specified types of non-Hodgkin lymphoma"),
    "FL": ("C82.9", "Follicular lymphoma, unspecified"),
    "MCL": ("C83.1", "Mantle cell lymphoma"),
    "MM": ("C90.0", "Multiple myeloma"),
}
CRITERIA = {
    "lugano_pet": "Lugano 2014",
    "lugano_ct": "Lugano 2014",
    "imwg": "IMWG 2016",
    "b_all": "B-ALL CR/CRi",
}


def _rank(code: str) -> int:
    return 2 if code in COMPLETE else 1 if code in RESPONDERS else 0


def build_export(session: Session, members: list[CohortMember]) -> RegistryExport:
    """The cohort as pseudonymous registry records (patients are identified by pseudonym only)."""
    ids = [m.episode_id for m in members]
    deaths = _deaths(session, ids)
    deceased = {d.patient_id: d.died_on for d in deaths.values()}
    crs, icans = max_grades(session, members)
    grades = {m.episode_id: (c, i) for m, c, i in zip(infused(members), crs, icans, strict=True)}
    responses = _current(
        list(
            session.execute(
                select(ResponseAssessment)
                .where(ResponseAssessment.episode_id.in_(ids))
                .order_by(ResponseAssessment.assessed_on)
            ).scalars()
        )
    )
    best: dict[uuid.UUID, ResponseAssessment] = {}
    for row in responses:
        held = best.get(row.episode_id)
        code = SHORT_RESPONSE.get(row.response, "NR")
        if held is None or _rank(code) > _rank(SHORT_RESPONSE.get(held.response, "NR")):
            best[row.episode_id] = row
    patients: dict[str, PatientRecord] = {}
    diagnoses: dict[str, DiagnosisRecord] = {}
    procedures: list[ProcedureRecord] = []
    products: list[ProductRecord] = []
    toxicities: list[ToxicityRecord] = []
    answers: list[ResponseRecord] = []
    for m in members:
        who = m.pseudonym
        sex: Literal["male", "female"] = "male" if m.sex == "male" else "female"
        patients[who] = PatientRecord(
            id=who,
            registry_id=who,
            sex=sex,
            birth_year=m.birth_year,
            deceased_on=deceased.get(m.patient_id),
        )
        code, display = ICD10[m.diagnosis.value]
        diagnoses[who] = DiagnosisRecord(id=f"{who}-dx", patient_id=who, code=code, display=display)
        episode = str(m.episode_id)
        if m.chain_of_identity is not None:
            products.append(
                ProductRecord(
                    id=episode,
                    patient_id=who,
                    product_name=m.product_name,
                    chain_of_identity=m.chain_of_identity,
                    isbt128_product_code=m.isbt_product_code,
                    collected_on=m.apheresis_collected_on,
                )
            )
        if m.apheresis_collected_on is not None:
            procedures.append(
                ProcedureRecord(
                    id=f"{episode}-apheresis",
                    patient_id=who,
                    kind="apheresis",
                    performed_on=m.apheresis_collected_on,
                )
            )
        if m.infused_on is not None:
            procedures.append(
                ProcedureRecord(
                    id=f"{episode}-infusion",
                    patient_id=who,
                    kind="infusion",
                    performed_on=m.infused_on,
                    product_id=episode if m.chain_of_identity is not None else None,
                )
            )
        crs_grade, icans_grade = grades.get(m.episode_id, (None, None))
        for kind, grade in (("CRS", crs_grade), ("ICANS", icans_grade)):
            if grade is not None:
                toxicities.append(
                    ToxicityRecord(
                        id=f"{episode}-{kind.lower()}",
                        patient_id=who,
                        kind="CRS" if kind == "CRS" else "ICANS",
                        max_grade=grade,
                    )
                )
        if m.episode_id in best:
            row = best[m.episode_id]
            answers.append(
                ResponseRecord(
                    id=f"{episode}-response",
                    patient_id=who,
                    response=SHORT_RESPONSE.get(row.response, "NR"),
                    assessed_on=row.assessed_on,
                    criteria=CRITERIA[row.framework.value],
                )
            )
    return RegistryExport(
        patients=tuple(patients.values()),
        diagnoses=tuple(diagnoses.values()),
        procedures=tuple(procedures),
        products=tuple(products),
        toxicities=tuple(toxicities),
        responses=tuple(answers),
    )
