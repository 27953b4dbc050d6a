"""`cartflow custody shipment ...` and `cartflow custody quarantine ...`: planning shipments, the
incoming worklist, importing the data logger's file, and the qualified person's decision."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cartflow.cli.common import fail
from cartflow.i18n import _
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

shipment_app = typer.Typer(no_args_is_help=True, help="Shipments and the data logger's file.")
quarantine_app = typer.Typer(no_args_is_help=True, help="Quarantine after an excursion.")


def _moment(text: str, what: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(
            _(
                "{what}: {text!r} is not an ISO 8601 time (e.g. 2026-03-01T08:00+03:00)",
                what=what,
                text=text,
            )
        )
    if moment.tzinfo is None:
        fail(_("{what}: {text!r} needs its UTC offset (e.g. +03:00)", what=what, text=text))
    return moment


@shipment_app.command("plan")
def plan(
    coi: Coi,
    user: User,
    material: Annotated[
        str, typer.Option(help="fresh_apheresis, cryopreserved_apheresis, cryopreserved_product")
    ],
    shipper: Annotated[str, typer.Option(help="the shipper's serial number")],
    courier: Annotated[str, typer.Option(help="courier company")],
    depart: Annotated[str, typer.Option(help="planned pick-up, ISO 8601 with offset")],
    arrive: Annotated[str, typer.Option(help="planned arrival, ISO 8601 with offset")],
    tracking: Annotated[str, typer.Option(help="courier's tracking number")] = "",
    max_transit_hours: Annotated[int | None, typer.Option(help="stricter maximum")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Plan a shipment of the episode's material; the cold-chain limits come from the product."""
    from pydantic import ValidationError

    from cartflow.i18n.validation import validation_message
    from cartflow.logistics.outputs import shipment_out
    from cartflow.logistics.schemas import ShipmentCreate
    from cartflow.logistics.shipments import create_shipment

    try:
        data = ShipmentCreate(
            material=material,
            shipper_serial=shipper,
            courier=courier,
            tracking_number=tracking,
            planned_departure_at=_moment(depart, "--depart"),
            planned_arrival_at=_moment(arrive, "--arrive"),
            max_transit_hours=max_transit_hours,
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "shipment"
        fail(_("{field}: {reason}", field=where, reason=validation_message(first)))
    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        episode = episode_by_coi(session, actor, coi)
        shipment = create_shipment(session, actor=actor, episode_id=episode.id, data=data)
        echo(shipment_out(session, shipment))


@shipment_app.command("list")
def list_(coi: Coi, user: User, password_stdin: PasswordStdin = False) -> None:
    """The episode's shipments."""
    from cartflow.logistics.outputs import shipment_out
    from cartflow.logistics.shipments import list_shipments

    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        episode = episode_by_coi(session, actor, coi)
        rows = list_shipments(session, actor=actor, episode_id=episode.id)
        echo([shipment_out(session, s) for s in rows])


@shipment_app.command("incoming")
def incoming(user: User, password_stdin: PasswordStdin = False) -> None:
    """What is on its way to your center or site, and when it arrives."""
    from cartflow.logistics.outputs import shipment_out
    from cartflow.logistics.schemas import WorklistItem
    from cartflow.logistics.shipments import incoming as incoming_shipments

    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        echo(
            [
                WorklistItem(
                    shipment=shipment_out(session, shipment),
                    patient_pseudonym=pseudonym,
                    product_code=product_code,
                )
                for shipment, pseudonym, product_code in incoming_shipments(session, actor=actor)
            ]
        )


@shipment_app.command("temperature")
def temperature(
    shipment: Annotated[str, typer.Argument(help="shipment id")],
    file: Annotated[Path, typer.Argument(help="the logger's CSV: timestamp,celsius")],
    user: User,
    password_stdin: PasswordStdin = False,
) -> None:
    """Import the data logger's file whole (a malformed line refuses it, naming the line)."""
    from cartflow.logistics.schemas import FindingOut, TemperatureImportOut
    from cartflow.logistics.shipments import import_temperature_file

    shipment_id = parse_id(shipment, "shipment")
    try:
        content = file.read_bytes()
    except OSError as error:
        fail(_("file: cannot read {file}: {reason}", file=file, reason=error.strerror))
    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        record, quarantine = import_temperature_file(
            session, actor=actor, shipment_id=shipment_id, filename=file.name, content=content
        )
        echo(
            TemperatureImportOut(
                id=record.id,
                shipment_id=record.shipment_id,
                filename=record.filename,
                sha256=record.sha256,
                reading_count=record.reading_count,
                first_at=record.first_at,
                last_at=record.last_at,
                min_celsius=record.min_celsius,
                max_celsius=record.max_celsius,
                excursion=record.excursion,
                findings=[FindingOut.model_validate(f) for f in record.findings],
                quarantine_id=quarantine.id if quarantine else None,
            )
        )


@quarantine_app.command("list")
def quarantines(
    user: User,
    open_only: Annotated[bool, typer.Option("--open", help="only undecided ones")] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Quarantines in your scope, newest first."""
    from cartflow.logistics.outputs import quarantine_out
    from cartflow.logistics.quarantine import list_quarantines, quarantined_container_ids
    from cartflow.models.logistics_shipment import QuarantineStatus

    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        status = QuarantineStatus.OPEN if open_only else None
        rows = list_quarantines(session, actor=actor, status=status)
        echo([quarantine_out(session, q, quarantined_container_ids(session, q)) for q in rows])


@quarantine_app.command("decide")
def decide(
    quarantine: Annotated[str, typer.Argument(help="quarantine id")],
    decision: Annotated[str, typer.Argument(help="release or reject")],
    user: User,
    reason: Annotated[str, typer.Option(help="the reason, recorded and signed")],
    password_stdin: PasswordStdin = False,
) -> None:
    """The qualified person's signed decision; your password is your signature."""
    from cartflow.logistics.outputs import quarantine_out
    from cartflow.logistics.quarantine import decide_quarantine, quarantined_container_ids

    quarantine_id = parse_id(quarantine, "quarantine")
    if decision not in ("release", "reject"):
        fail(_("decision: {decision!r} must be release or reject", decision=decision))
    if not reason.strip():
        fail(_("--reason: a decision needs its reason"))
    password, _witness = passwords(password_stdin, None)
    with acting(user, password) as (session, actor):
        decided = decide_quarantine(
            session,
            actor=actor,
            quarantine_id=quarantine_id,
            decision="release" if decision == "release" else "reject",
            reason=reason,
            password=password,
        )
        echo(quarantine_out(session, decided, quarantined_container_ids(session, decided)))
