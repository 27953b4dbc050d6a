"""`cartflow clinical` commands for CAR-HEMATOTOX and everything after the infusion: toxicity
assessments (the grading contract's CRS and ICANS objects as JSON), treatments, the course, blood
counts and ICAHT, response, progression, death, follow-up and the worklists.

Registered on the `cartflow clinical` app by `cartflow.cli.clinical`.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from cartflow.cli.common import fail
from cartflow.clinical.cli_support import (
    Password,
    User,
    act,
    parse_date,
    parse_json_option,
    parse_time,
)
from cartflow.i18n import _
from cartflow.models.clinical_outcome import DiseaseEventKind
from cartflow.models.clinical_toxicity import TreatmentAgent, TreatmentIndication

EpisodeId = Annotated[uuid.UUID, typer.Argument(help="episode id")]
At = Annotated[str, typer.Option("--at", help="ISO time with offset")]
On = Annotated[str, typer.Option("--on", help="ISO date")]
CrsJson = Annotated[
    str | None,
    typer.Option(
        "--crs",
        help='grading contract object, e.g. {"temperature_c": 39.1, "hypotension": '
        '"none", "oxygen": "low_flow"}',
    ),
]
IcansJson = Annotated[
    str | None,
    typer.Option(
        "--icans",
        help='ICANS contract object without age_years, e.g. {"ice_score": 8, '
        '"consciousness": "alert", "seizure": "none", "cerebral_edema": "none"}',
    ),
]


def _object(text: str | None, option: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(_("{option}: not valid JSON ({error})", option=option, error=str(exc)))


def _file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(_("cannot read {path}: {error}", path=str(path), error=str(exc)))


def register(app: typer.Typer) -> None:
    @app.command("hematotox")
    def hematotox(
        episode: EpisodeId,
        on: On,
        platelets: Annotated[float, typer.Option(help="x10^9/L")],
        anc: Annotated[float, typer.Option(help="per uL")],
        hemoglobin: Annotated[float, typer.Option(help="g/dL")],
        crp: Annotated[float, typer.Option(help="mg/dL")],
        ferritin: Annotated[float, typer.Option(help="ng/mL")],
        user: User,
        password_stdin: Password = False,
    ) -> None:
        """CAR-HEMATOTOX from labs drawn before lymphodepletion (Rejeski 2021)."""
        from cartflow.clinical.lymphodepletion_service import record_hematotox
        from cartflow.clinical.schemas import HematotoxIn, HematotoxOut

        data = parse_json_option(
            {
                "measured_on": parse_date(on, "--on"),
                "platelets_10e9_per_l": platelets,
                "anc_per_ul": anc,
                "hemoglobin_g_per_dl": hemoglobin,
                "crp_mg_per_dl": crp,
                "ferritin_ng_per_ml": ferritin,
            },
            HematotoxIn,
        )
        act(
            user,
            password_stdin,
            lambda s, a, _p: HematotoxOut.model_validate(
                record_hematotox(s, actor=a, episode_id=episode, data=data)
            ),
        )

    @app.command("assess")
    def assess(
        episode: EpisodeId,
        at: At,
        user: User,
        crs: CrsJson = None,
        icans: IcansJson = None,
        notes: str = "",
        password_stdin: Password = False,
    ) -> None:
        """Record a CRS and/or ICANS assessment; prints the ASTCT grades and their rules."""
        from cartflow.clinical.schemas_after import ToxicityAssessmentIn, ToxicityAssessmentOut
        from cartflow.clinical.toxicity_service import record_assessment

        data = parse_json_option(
            {
                "assessed_at": parse_time(at, "--at"),
                "crs": _object(crs, "--crs"),
                "icans": _object(icans, "--icans"),
                "notes": notes,
            },
            ToxicityAssessmentIn,
        )
        act(
            user,
            password_stdin,
            lambda s, a, _p: ToxicityAssessmentOut.model_validate(
                record_assessment(s, actor=a, episode_id=episode, data=data)
            ),
        )

    @app.command("correct")
    def correct(
        assessment: Annotated[uuid.UUID, typer.Argument(help="assessment id")],
        at: At,
        reason: Annotated[str, typer.Option(help="why it is corrected")],
        user: User,
        crs: CrsJson = None,
        icans: IcansJson = None,
        password_stdin: Password = False,
    ) -> None:
        """Correct an assessment: a new one supersedes it (the old one is kept)."""
        from cartflow.clinical.schemas_after import ToxicityAssessmentOut, ToxicityCorrectionIn
        from cartflow.clinical.toxicity_service import correct_assessment

        data = parse_json_option(
            {
                "assessed_at": parse_time(at, "--at"),
                "crs": _object(crs, "--crs"),
                "icans": _object(icans, "--icans"),
                "reason": reason,
            },
            ToxicityCorrectionIn,
        )
        act(
            user,
            password_stdin,
            lambda s, a, _p: ToxicityAssessmentOut.model_validate(
                correct_assessment(s, actor=a, assessment_id=assessment, data=data)
            ),
        )

    @app.command("treat")
    def treat(
        episode: EpisodeId,
        agent: Annotated[TreatmentAgent, typer.Option()],
        indication: Annotated[TreatmentIndication, typer.Option()],
        dose_mg: Annotated[float, typer.Option()],
        at: At,
        user: User,
        override_reason: str = "",
        password_stdin: Password = False,
    ) -> None:
        """Record tocilizumab, a corticosteroid or anakinra (tocilizumab limits checked)."""
        from cartflow.clinical.schemas_after import TreatmentIn, TreatmentOut
        from cartflow.clinical.toxicity_service import record_treatment

        data = parse_json_option(
            {
                "agent": agent.value,
                "indication": indication.value,
                "dose_mg": dose_mg,
                "given_at": parse_time(at, "--at"),
                "override_reason": override_reason,
            },
            TreatmentIn,
        )
        act(
            user,
            password_stdin,
            lambda s, a, _p: TreatmentOut.model_validate(
                record_treatment(s, actor=a, episode_id=episode, data=data)
            ),
        )

    @app.command("course")
    def course(episode: EpisodeId, user: User, password_stdin: Password = False) -> None:
        """Maximum grade, onset and duration of CRS and ICANS, and the doses given."""
        from cartflow.clinical.toxicity_service import course as toxicity_course

        act(user, password_stdin, lambda s, a, _p: toxicity_course(s, actor=a, episode_id=episode))

    @app.command("counts")
    def counts(
        episode: EpisodeId,
        file: Annotated[Path, typer.Option(help='JSON {"counts": [{"sampled_on", ...}]}')],
        user: User,
        password_stdin: Password = False,
    ) -> None:
        """Record blood counts (ANC per uL, platelets x10^9/L, platelet transfusion)."""
        from cartflow.clinical.counts_service import icaht, record_blood_counts
        from cartflow.clinical.schemas_after import BloodCountsIn

        data = parse_json_option(_file(file), BloodCountsIn)

        def work(s: Any, a: Any, _p: str) -> Any:
            record_blood_counts(s, actor=a, episode_id=episode, data=data)
            return icaht(s, actor=a, episode_id=episode)

        act(user, password_stdin, work)

    @app.command("icaht")
    def icaht_grades(episode: EpisodeId, user: User, password_stdin: Password = False) -> None:
        """ICAHT grades and ANC/platelet recovery from the counts on record."""
        from cartflow.clinical.counts_service import icaht

        act(user, password_stdin, lambda s, a, _p: icaht(s, actor=a, episode_id=episode))

    @app.command("response")
    def response(
        episode: EpisodeId,
        json_text: Annotated[str, typer.Option("--json", help="ResponseIn with its framework")],
        user: User,
        password_stdin: Password = False,
    ) -> None:
        """Record a response assessment (lugano_pet, lugano_ct, imwg or b_all)."""
        from pydantic import TypeAdapter

        from cartflow.clinical.outcome_service import record_response
        from cartflow.clinical.schemas_after import ResponseIn, ResponseOut

        payload = _object(json_text, "--json")

        def work(s: Any, a: Any, _p: str) -> Any:
            data = TypeAdapter(ResponseIn).validate_python(payload)  # refusals: one line
            return ResponseOut.model_validate(
                record_response(s, actor=a, episode_id=episode, data=data)
            )

        act(user, password_stdin, work)

    @app.command("progression")
    def progression(
        episode: EpisodeId,
        kind: Annotated[DiseaseEventKind, typer.Option()],
        on: On,
        user: User,
        password_stdin: Password = False,
    ) -> None:
        """Record progression or relapse."""
        from cartflow.clinical.outcome_service import record_disease_event
        from cartflow.clinical.schemas_after import DiseaseEventIn, DiseaseEventOut

        data = parse_json_option(
            {"kind": kind.value, "occurred_on": parse_date(on, "--on")}, DiseaseEventIn
        )
        act(
            user,
            password_stdin,
            lambda s, a, _p: DiseaseEventOut.model_validate(
                record_disease_event(s, actor=a, episode_id=episode, data=data)
            ),
        )

    @app.command("death")
    def death(
        episode: EpisodeId,
        on: On,
        cause: Annotated[str, typer.Option(help="e.g. disease_progression_or_relapse, infection")],
        user: User,
        password_stdin: Password = False,
    ) -> None:
        """Record the patient's death and its principal cause."""
        from cartflow.clinical.outcome_service import record_death
        from cartflow.clinical.schemas_after import DeathIn, DeathOut

        data = parse_json_option({"died_on": parse_date(on, "--on"), "cause": cause}, DeathIn)
        act(
            user,
            password_stdin,
            lambda s, a, _p: DeathOut.model_validate(
                record_death(s, actor=a, episode_id=episode, data=data)
            ),
        )

    @app.command("follow-up")
    def follow_up(episode: EpisodeId, user: User, password_stdin: Password = False) -> None:
        """The follow-up schedule with each visit's status."""
        from cartflow.clinical.outcome_service import followup

        act(user, password_stdin, lambda s, a, _p: followup(s, actor=a, episode_id=episode))

    @app.command("visit")
    def visit(
        episode: EpisodeId,
        key: Annotated[str, typer.Argument(help="e.g. day_7, day_100, month_6, year_1")],
        on: On,
        user: User,
        password_stdin: Password = False,
    ) -> None:
        """Record a follow-up visit as done."""
        from cartflow.clinical.outcome_service import followup, record_visit
        from cartflow.clinical.schemas_after import VisitIn

        data = parse_json_option({"completed_on": parse_date(on, "--on")}, VisitIn)

        def work(s: Any, a: Any, _p: str) -> Any:
            record_visit(s, actor=a, episode_id=episode, visit_key=key, data=data)
            return followup(s, actor=a, episode_id=episode)

        act(user, password_stdin, work)

    @app.command("worklist")
    def worklist(
        kind: Annotated[str, typer.Argument(help="toxicity or follow-up")],
        user: User,
        center: Annotated[str | None, typer.Option(help="center code")] = None,
        password_stdin: Password = False,
    ) -> None:
        """Patients at CRS/ICANS grade >= 2, or follow-up visits due and overdue."""
        from cartflow.clinical.worklists import followup_worklist, toxicity_worklist

        if kind not in ("toxicity", "follow-up"):
            fail(_("worklist: {kind!r} is not 'toxicity' or 'follow-up'", kind=kind))
        chosen = toxicity_worklist if kind == "toxicity" else followup_worklist
        act(user, password_stdin, lambda s, a, _p: chosen(s, actor=a, center_code=center))
