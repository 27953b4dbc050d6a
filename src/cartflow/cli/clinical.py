"""`cartflow clinical ...`: the clinical course from the command line, through the same services as
the API. Every command acts as a user (`--user NAME`, password from `--password-stdin` or a
prompt); the password also signs the bedside check. Output is the API's JSON; a refusal is one line
on stderr and exit code 2.

Commands before the infusion are here; those after it are in `cartflow.clinical.cli_after`
(registered on the same app) to keep each module short.
"""

from __future__ import annotations

import uuid
from typing import Annotated

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
from cartflow.models.clinical import ConsentKind

app = typer.Typer(
    no_args_is_help=True,
    help="Eligibility, lymphodepletion, bedside check, infusion, toxicity, follow-up.",
)
EpisodeId = Annotated[uuid.UUID, typer.Argument(help="episode id")]
When = Annotated[
    str | None, typer.Option("--at", help="ISO time with offset, e.g. 2026-03-02T09:15:00+03:00")
]
Time = Annotated[str, typer.Option(help="ISO time with offset")]
Day = Annotated[str, typer.Option(help="ISO date, e.g. 2026-03-02")]


@app.command("protocol")
def protocol(
    product: Annotated[str, typer.Argument(help="product code")],
    json_text: Annotated[str, typer.Option("--json", help="ProtocolIn as JSON")],
    user: User,
    password_stdin: Password = False,
) -> None:
    """Set a product's eligibility protocol (admins): a new version supersedes the current one."""
    from cartflow.clinical.schemas import ProtocolIn
    from cartflow.clinical.service import set_protocol

    data = parse_json_option(json_text, ProtocolIn)
    act(
        user,
        password_stdin,
        lambda s, a, _p: set_protocol(s, actor=a, product_code=product, data=data),
    )


@app.command("consent")
def consent(
    episode: EpisodeId,
    signed_on: Day,
    form_version: Annotated[str, typer.Option()],
    user: User,
    kind: Annotated[ConsentKind, typer.Option()] = ConsentKind.TREATMENT,
    signed_by: Annotated[str, typer.Option(help="patient, parent or legal_guardian")] = "patient",
    password_stdin: Password = False,
) -> None:
    """Record a signed consent form for the episode."""
    from cartflow.clinical.schemas import ConsentIn, ConsentOut
    from cartflow.clinical.service import record_consent

    data = parse_json_option(
        {
            "kind": kind.value,
            "signed_on": parse_date(signed_on, "--signed-on"),
            "form_version": form_version,
            "signed_by": signed_by,
        },
        ConsentIn,
    )
    act(
        user,
        password_stdin,
        lambda s, a, _p: ConsentOut.model_validate(
            record_consent(s, actor=a, episode_id=episode, data=data)
        ),
    )


@app.command("eligibility")
def eligibility(
    episode: EpisodeId,
    user: User,
    ecog: Annotated[int | None, typer.Option()] = None,
    karnofsky: Annotated[int | None, typer.Option(help="Karnofsky or Lansky score")] = None,
    lab: Annotated[
        list[str] | None, typer.Option(help="NAME=VALUE, e.g. anc_per_ul=1500; repeat")
    ] = None,
    notes: str = "",
    password_stdin: Password = False,
) -> None:
    """Assess eligibility; a passing assessment moves the episode to eligible."""
    from cartflow.clinical.eligibility_service import assess_eligibility
    from cartflow.clinical.schemas import EligibilityIn

    labs: dict[str, float] = {}
    for item in lab or []:
        name, sep, value = item.partition("=")
        try:
            labs[name.strip()] = float(value)
        except ValueError:
            fail(_("--lab: {item!r} is not NAME=NUMBER", item=item))
        if not sep:
            fail(_("--lab: {item!r} is not NAME=NUMBER", item=item))
    data = parse_json_option(
        {"ecog": ecog, "karnofsky_lansky": karnofsky, "labs": labs, "notes": notes}, EligibilityIn
    )
    act(
        user,
        password_stdin,
        lambda s, a, _p: assess_eligibility(s, actor=a, episode_id=episode, data=data),
    )


@app.command("ld-plan")
def ld_plan(
    episode: EpisodeId,
    infusion_date: Annotated[str, typer.Option(help="day 0, ISO date")],
    user: User,
    regimen: Annotated[str | None, typer.Option(help="e.g. axi-cel, tisa-cel-all")] = None,
    crcl: Annotated[float | None, typer.Option(help="creatinine clearance, mL/min")] = None,
    creatinine: Annotated[float | None, typer.Option(help="serum creatinine, mg/dL")] = None,
    flu_factor: Annotated[float | None, typer.Option(help="fludarabine dose factor")] = None,
    reason: str = "",
    password_stdin: Password = False,
) -> None:
    """Plan lymphodepletion (Flu/Cy doses by Mosteller BSA, renal adjustment)."""
    from cartflow.clinical.lymphodepletion_service import create_plan
    from cartflow.clinical.schemas import LdPlanIn, LdPlanOut

    data = parse_json_option(
        {
            "infusion_date": parse_date(infusion_date, "--infusion-date"),
            "regimen": regimen,
            "crcl_ml_min": crcl,
            "serum_creatinine_mg_dl": creatinine,
            "fludarabine_dose_factor": flu_factor,
            "reason": reason,
        },
        LdPlanIn,
    )
    act(
        user,
        password_stdin,
        lambda s, a, _p: LdPlanOut.model_validate(
            create_plan(s, actor=a, episode_id=episode, data=data)
        ),
    )


@app.command("ld-start")
def ld_start(
    episode: EpisodeId, user: User, at: When = None, password_stdin: Password = False
) -> None:
    """Start lymphodepletion (the product must be released); the episode moves on."""
    from cartflow.clinical.lymphodepletion_service import start_lymphodepletion
    from cartflow.clinical.schemas import LdPlanOut, LdStartIn

    data = parse_json_option({"started_at": parse_time(at, "--at")}, LdStartIn)
    act(
        user,
        password_stdin,
        lambda s, a, _p: LdPlanOut.model_validate(
            start_lymphodepletion(s, actor=a, episode_id=episode, data=data)
        ),
    )


@app.command("bedside-scan")
def bedside_scan(
    episode: EpisodeId,
    bag: Annotated[str, typer.Option(help="the product bag's read, e.g. &/CHA999926000123")],
    wristband: Annotated[str, typer.Option(help="the wristband's read, WB:<pseudonym>/&/CH...")],
    user: User,
    at: When = None,
    password_stdin: Password = False,
) -> None:
    """First person at the bedside: scan bag and wristband and sign with your password."""
    from cartflow.clinical.infusion_service import bedside_check_out, start_bedside_check
    from cartflow.clinical.schemas import BedsideScanIn

    when = parse_time(at, "--at")
    act(
        user,
        password_stdin,
        lambda s, a, p: bedside_check_out(
            s,
            start_bedside_check(
                s,
                actor=a,
                episode_id=episode,
                data=BedsideScanIn.model_validate(
                    {
                        "bag_scan": bag,
                        "wristband_scan": wristband,
                        "password": p,
                        "scanned_at": when,
                    }
                ),
            ),
        ),
    )


@app.command("bedside-confirm")
def bedside_confirm(
    check: Annotated[uuid.UUID, typer.Argument(help="bedside check id")],
    bag: Annotated[str, typer.Option()],
    wristband: Annotated[str, typer.Option()],
    user: User,
    at: When = None,
    password_stdin: Password = False,
) -> None:
    """Second, different person: scan both again and sign."""
    from cartflow.clinical.infusion_service import bedside_check_out, confirm_bedside_check
    from cartflow.clinical.schemas import BedsideScanIn

    when = parse_time(at, "--at")
    act(
        user,
        password_stdin,
        lambda s, a, p: bedside_check_out(
            s,
            confirm_bedside_check(
                s,
                actor=a,
                check_id=check,
                data=BedsideScanIn.model_validate(
                    {
                        "bag_scan": bag,
                        "wristband_scan": wristband,
                        "password": p,
                        "scanned_at": when,
                    }
                ),
            ),
        ),
    )


@app.command("infuse")
def infuse(
    episode: EpisodeId,
    check: Annotated[uuid.UUID, typer.Option(help="the verified bedside check")],
    thaw_start: Time,
    thaw_end: Time,
    start: Time,
    end: Time,
    cells: Annotated[float, typer.Option(help="CAR+ viable T cells, x10^6")],
    volume: Annotated[float, typer.Option(help="mL")],
    user: User,
    bags: int = 1,
    incomplete: Annotated[bool, typer.Option(help="not all of the product was given")] = False,
    deviation_reason: str = "",
    password_stdin: Password = False,
) -> None:
    """Record thaw, infusion start and end and the dose; the episode moves to infused."""
    from cartflow.clinical.infusion_service import record_infusion
    from cartflow.clinical.schemas import InfusionIn, InfusionOut

    times = {
        "thaw_started_at": parse_time(thaw_start, "--thaw-start"),
        "thaw_completed_at": parse_time(thaw_end, "--thaw-end"),
        "infusion_started_at": parse_time(start, "--start"),
        "infusion_ended_at": parse_time(end, "--end"),
    }
    data = parse_json_option(
        {
            "bedside_check_id": check,
            **times,
            "cells_infused_1e6": cells,
            "volume_ml": volume,
            "bags": bags,
            "complete": not incomplete,
            "deviation_reason": deviation_reason,
        },
        InfusionIn,
    )
    act(
        user,
        password_stdin,
        lambda s, a, _p: InfusionOut.model_validate(
            record_infusion(s, actor=a, episode_id=episode, data=data)
        ),
    )


from cartflow.clinical.cli_after import register  # noqa: E402 - after `app` exists

register(app)
