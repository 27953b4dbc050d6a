"""`cartflow custody`: labelled containers, scanned hand-offs, the custody log, shipments, the
data logger's file and quarantine decisions, through the same services as the API.

Every command acts as a user (`--user NAME`, password from `--password-stdin` or a prompt) and
sees only what that user may see. An episode is named by its chain of identity identifier (spaces
ignored), a container by its DIN. Output is JSON.

Exit codes: 0 done; 1 a hand-off refused by a hard stop (the deviation *is* recorded; its id is on
stderr); 2 bad input or any other refusal, one line on stderr.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer

from cartflow.cli.common import fail
from cartflow.i18n import _
from cartflow.logistics.cli_shipments import quarantine_app, shipment_app
from cartflow.logistics.cli_support import (
    Coi,
    PasswordStdin,
    User,
    acting,
    echo,
    episode_by_coi,
    parse_id,
    passwords,
)

app = typer.Typer(no_args_is_help=True, help="Hand-offs, shipments, custody.")


@app.command("containers")
def containers(
    coi: Coi,
    user: User,
    kind: Annotated[str, typer.Option(help="collection_bag, product_bag, cassette or shipper")],
    count: Annotated[int, typer.Option(min=1, max=10)] = 1,
    password_stdin: PasswordStdin = False,
) -> None:
    """Label new containers of the episode (each gets its own DIN)."""
    from cartflow.logistics.containers import register_containers
    from cartflow.logistics.outputs import containers_out
    from cartflow.models.custody import ContainerKind

    try:
        container_kind = ContainerKind(kind)
    except ValueError:
        fail(
            _(
                "--kind: {kind!r} is not one of {kinds}",
                kind=kind,
                kinds=", ".join(k.value for k in ContainerKind),
            )
        )
    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        episode = episode_by_coi(session, actor, coi)
        made = register_containers(
            session, actor=actor, episode_id=episode.id, kind=container_kind, count=count
        )
        echo(containers_out(session, made))


@app.command("label")
def label(
    din: Annotated[str, typer.Argument(help="the container's DIN")],
    out: Annotated[Path, typer.Argument(help="where to write: .pdf, or .zpl for a printer")],
    user: User,
    password_stdin: PasswordStdin = False,
) -> None:
    """Print a container's label to a file (PDF, or ZPL for thermal printers)."""
    from sqlalchemy import select

    from cartflow.identity.isbt128 import compact
    from cartflow.logistics.containers import get_container, label_content
    from cartflow.models.custody import CustodyContainer

    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        found = session.execute(
            select(CustodyContainer.id).where(CustodyContainer.din == compact(din))
        ).scalar_one_or_none()
        if found is None:
            fail(_("DIN: no container {din} among yours", din=compact(din)))
        container = get_container(session, actor=actor, container_id=found)
        content = label_content(session, actor=actor, container=container)
    if out.suffix.lower() == ".zpl":
        from cartflow.identity.labels_zpl import render_label_zpl

        out.write_text(render_label_zpl(content), encoding="utf-8")
    else:
        from cartflow.identity.labels_pdf import render_label_pdf

        out.write_bytes(render_label_pdf(content))
    typer.echo(str(out))


@app.command("scan")
def scan(
    coi: Coi,
    step: Annotated[str, typer.Argument(help="collection, apheresis_pickup, ... bedside")],
    scans: Annotated[list[str], typer.Argument(help="what the scanner typed, one per container")],
    user: User,
    witness: Annotated[
        str | None, typer.Option(help="second person of a two-person step (receipt, bedside)")
    ] = None,
    location: Annotated[str, typer.Option(help="where the hand-off happens")] = "",
    temperature: Annotated[float | None, typer.Option(help="°C read at the hand-off")] = None,
    shipment: Annotated[str | None, typer.Option(help="shipment id, if several are open")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Record a hand-off: every container scanned against the episode and the step."""
    from cartflow.logistics.outputs import handoff_out
    from cartflow.logistics.schemas import HandoffRefusalOut
    from cartflow.logistics.service import Witness, record_handoff
    from cartflow.models.custody import HandoffStep

    try:
        handoff_step = HandoffStep(step)
        shipment_id = uuid.UUID(shipment) if shipment else None
    except ValueError:
        fail(
            _(
                "step: {step!r} is not one of {steps}, or --shipment is not an id",
                step=step,
                steps=", ".join(s.value for s in HandoffStep),
            )
        )
    password, second_password = passwords(password_stdin, witness)
    with acting(user, password) as (session, actor):
        episode = episode_by_coi(session, actor, coi)
        outcome = record_handoff(
            session,
            actor=actor,
            episode_id=episode.id,
            step=handoff_step,
            scans=scans,
            location=location,
            temperature_c=temperature,
            witness=Witness(witness, second_password or "") if witness else None,
            shipment_id=shipment_id,
        )
        result = handoff_out(session, outcome)
    # Reported after the commit: a refused hand-off keeps its deviation.
    if isinstance(result, HandoffRefusalOut):
        ids = ", ".join(str(i) for i in result.deviation_ids)
        fail(_("{reason} (deviation {ids} opened)", reason=result.message, ids=ids), code=1)
    echo(result)


@app.command("where")
def where(coi: Coi, user: User, password_stdin: PasswordStdin = False) -> None:
    """Where each container of the episode is now, and in whose custody."""
    from cartflow.logistics.custody import where_now
    from cartflow.logistics.outputs import containers_out
    from cartflow.logistics.schemas import WhereOut

    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        episode, rows = where_now(
            session, actor=actor, episode_id=episode_by_coi(session, actor, coi).id
        )
        echo(
            WhereOut(
                episode_id=episode.id,
                chain_of_identity=episode.chain_of_identity or "",
                episode_state=episode.state,
                containers=containers_out(session, rows),
            )
        )


@app.command("timeline")
def timeline(coi: Coi, user: User, password_stdin: PasswordStdin = False) -> None:
    """Every custody event of the episode, oldest first."""
    from cartflow.logistics import custody
    from cartflow.logistics.outputs import events_out

    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        episode = episode_by_coi(session, actor, coi)
        echo(events_out(session, custody.timeline(session, actor=actor, episode_id=episode.id)))


@app.command("holdings")
def holdings(
    user: User,
    center: Annotated[str | None, typer.Option(help="center code")] = None,
    site: Annotated[str | None, typer.Option(help="site code")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """What a center or site (or you, as a courier) holds now."""
    from cartflow.logistics import custody
    from cartflow.logistics.outputs import containers_out

    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        rows = custody.holdings(session, actor=actor, center_code=center, site_code=site)
        echo(containers_out(session, rows))


@app.command("deviations")
def deviations(
    user: User,
    open_only: Annotated[bool, typer.Option("--open", help="only open deviations")] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Deviations opened by refused scans, newest first."""
    from cartflow.logistics import custody
    from cartflow.logistics.outputs import deviations_out
    from cartflow.models.custody import DeviationStatus

    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        status = DeviationStatus.OPEN if open_only else None
        echo(deviations_out(session, custody.list_deviations(session, actor=actor, status=status)))


@app.command("close-deviation")
def close_deviation(
    deviation: Annotated[str, typer.Argument(help="deviation id")],
    user: User,
    note: Annotated[str, typer.Option(help="what the investigation found and did")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Close a deviation with the investigation's outcome (qualified person or coordinator)."""
    from cartflow.logistics import custody
    from cartflow.logistics.outputs import deviations_out

    deviation_id = parse_id(deviation, "deviation")
    if not note.strip():
        fail(_("--note: closing a deviation needs a note"))
    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        closed = custody.close_deviation(session, actor=actor, deviation_id=deviation_id, note=note)
        echo(deviations_out(session, [closed]))


app.add_typer(shipment_app, name="shipment", help="Shipments and the data logger's file.")
app.add_typer(quarantine_app, name="quarantine", help="Quarantine after an excursion.")
