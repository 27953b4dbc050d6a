"""`cartflow manufacturing ...`: batches, steps, QC results, disposition, certificates, worklists.

Every command acts as a user (`--user NAME`, password from `--password-stdin` or a prompt); the
password that logs the command in also signs, where the command signs (21 CFR 11.200: both
components at each signing outside a continuous session). A batch is named by its id or its DIN.
Bad input is one line on stderr and exit code 2; output is printed only after the change is
committed. The QC and disposition commands live in `cartflow.manufacturing.cli_qc`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from cartflow.cli.common import fail
from cartflow.i18n import _, gettext
from cartflow.manufacturing import cli_qc
from cartflow.manufacturing.cli_support import (
    Operators,
    PasswordStdin,
    UserOpt,
    act,
    batch_id_of,
    number_or_text,
    parse_id,
    record_of,
    summary,
    when,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cartflow.auth.actor import Actor

app = typer.Typer(no_args_is_help=True, help="Batches, QC results, disposition.")


@app.command("start")
def start(
    episode: str = typer.Argument(..., help="episode id"),
    device: str = typer.Option(..., help="device code at the episode's site"),
    received_at: str | None = typer.Option(None, help="ISO time with zone; default now"),
    operator: list[str] = Operators,
    notes: str = typer.Option("", help="free text on the receipt"),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Receive the apheresis material and start a batch (episode to in_manufacturing)."""
    from cartflow.manufacturing import service
    from cartflow.manufacturing.schemas import BatchStart

    episode_id = parse_id(episode, "episode")
    received = when(received_at, "received_at")

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        data = BatchStart(
            episode_id=episode_id,
            device=device,
            received_at=received,
            operators=operator,
            notes=notes,
        )
        batch = service.start_batch(session, actor=actor, data=data)
        return summary(record_of(session, actor, batch.id))

    act(user, password_stdin, work)


@app.command("step")
def step(
    batch: str = typer.Argument(..., help="batch id or DIN"),
    name: str = typer.Argument(..., help="activation, transduction, ... cryopreservation"),
    started_at: str = typer.Option(..., help="ISO time with zone"),
    completed_at: str | None = typer.Option(None, help="ISO time with zone; default now"),
    operator: list[str] = Operators,
    param: list[str] = typer.Option([], help="NAME=VALUE, repeat for several"),
    notes: str = typer.Option(""),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Record a manufacturing step (in order; cryopreservation frees the device)."""
    from cartflow.manufacturing import steps
    from cartflow.manufacturing.schemas import StepRecord
    from cartflow.models.manufacturing import StepKind

    try:
        kind = StepKind(name)
    except ValueError:
        fail(
            _(
                "step: unknown step {step!r}; known: {known}",
                step=name,
                known=", ".join(s.value for s in StepKind),
            )
        )
    parameters: dict[str, float | int | str | bool] = {}
    for item in param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(_("param: expected NAME=VALUE, not {item!r}", item=item))
        parameters[key] = number_or_text(value)
    start_time = when(started_at, "started_at")
    end_time = when(completed_at, "completed_at")

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        batch_id = batch_id_of(session, actor, batch)
        data = StepRecord(
            step=kind,
            started_at=start_time,
            completed_at=end_time,
            operators=operator,
            notes=notes,
            parameters=parameters,
        )
        steps.record_step(session, actor=actor, batch_id=batch_id, data=data)
        return summary(record_of(session, actor, batch_id))

    act(user, password_stdin, work)


@app.command("correct-step")
def correct_step(
    step_id: str = typer.Argument(..., help="id of the step revision to correct"),
    started_at: str = typer.Option(...),
    completed_at: str = typer.Option(...),
    reason: str = typer.Option(..., help="why the record is corrected"),
    operator: list[str] = Operators,
    notes: str = typer.Option(""),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Correct a recorded step: a new revision supersedes it, with the reason."""
    from cartflow.manufacturing import steps
    from cartflow.manufacturing.schemas import StepCorrection

    target = parse_id(step_id, "step_id")
    start_time, end_time = when(started_at, "started_at"), when(completed_at, "completed_at")
    if not reason.strip():
        fail(_("reason: a correction needs a reason"))

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        data = StepCorrection(
            started_at=start_time,
            completed_at=end_time,
            operators=operator,
            notes=notes,
            reason=reason,
        )
        row = steps.correct_step(session, actor=actor, step_id=target, data=data)
        return [
            gettext(
                "{step} revision {revision} ({step_id}) supersedes {target}",
                step=row.step.value,
                revision=row.revision,
                step_id=row.id,
                target=target,
            )
        ]

    act(user, password_stdin, work)


@app.command("submit")
def submit(
    batch: str = typer.Argument(..., help="batch id or DIN"),
    reason: str = typer.Option(""),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Submit the cryopreserved batch for QC against the current specification."""
    from cartflow.manufacturing import service
    from cartflow.manufacturing.schemas import SubmitForQc

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        batch_id = batch_id_of(session, actor, batch)
        service.submit_for_qc(
            session, actor=actor, batch_id=batch_id, data=SubmitForQc(reason=reason)
        )
        record = record_of(session, actor, batch_id)
        return [
            *summary(record),
            gettext("specification version {version}", version=record.specification_version),
        ]

    act(user, password_stdin, work)


@app.command("terminate")
def terminate(
    batch: str = typer.Argument(..., help="batch id or DIN"),
    reason: str = typer.Option(...),
    remanufacture: bool = typer.Option(False, help="send the episode back for a new run"),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Stop a failed run; the device is freed."""
    from cartflow.manufacturing import service
    from cartflow.manufacturing.schemas import Terminate

    if not reason.strip():
        fail(_("reason: terminating a batch needs a reason"))

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        batch_id = batch_id_of(session, actor, batch)
        data = Terminate(reason=reason, remanufacture=remanufacture)
        service.terminate_batch(session, actor=actor, batch_id=batch_id, data=data)
        return summary(record_of(session, actor, batch_id))

    act(user, password_stdin, work)


@app.command("remanufacture")
def remanufacture(
    batch: str = typer.Argument(..., help="the rejected or terminated batch"),
    reason: str = typer.Option(...),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Send the episode of a rejected or terminated batch back for a new run."""
    from cartflow.manufacturing import service
    from cartflow.manufacturing.schemas import Reason

    if not reason.strip():
        fail(_("reason: a re-manufacture needs a reason"))

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        batch_id = batch_id_of(session, actor, batch)
        service.remanufacture(session, actor=actor, batch_id=batch_id, data=Reason(reason=reason))
        return [gettext("episode sent back for a new manufacturing run")]

    act(user, password_stdin, work)


cli_qc.register(app)
