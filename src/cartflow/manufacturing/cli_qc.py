"""The QC, disposition and reading commands of `cartflow manufacturing` (registered on its Typer
app by `register`): results, retests, verification, the exceptional release request, release,
second signature, rejection, the batch record, the certificate, worklists, the test catalogue and
the specification check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cartflow.cli.common import fail
from cartflow.i18n import _, gettext, ngettext
from cartflow.manufacturing.cli_support import (
    PasswordStdin,
    UserOpt,
    act,
    batch_id_of,
    number_or_text,
    parse_id,
    record_of,
    summary,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cartflow.auth.actor import Actor
    from cartflow.manufacturing.schemas import BatchOut


def result(
    batch: str = typer.Argument(..., help="batch id or DIN"),
    values: list[str] = typer.Argument(..., help="TEST=VALUE, e.g. viability_percent=92.5"),
    method: str = typer.Option("", help="method, for every value given"),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Enter QC results; each is judged against the batch's specification."""
    from cartflow.manufacturing import qc
    from cartflow.manufacturing.schemas import QcResultIn

    pairs: list[tuple[str, float | str]] = []
    for item in values:
        test, sep, value = item.partition("=")
        if not sep or not test or not value:
            fail(_("values: expected TEST=VALUE, not {item!r}", item=item))
        pairs.append((test, number_or_text(value)))

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        batch_id = batch_id_of(session, actor, batch)
        lines = []
        for test, value in pairs:
            row = qc.enter_result(
                session,
                actor=actor,
                batch_id=batch_id,
                data=QcResultIn(test=test, value=value, method=method),
            )
            flag = (
                gettext("within specification") if row.within_spec else f"OOS: {row.failed_limit}"
            )
            lines.append(f"{row.id} {test} = {value} {row.unit} ({flag})".replace("  ", " "))
        return lines

    act(user, password_stdin, work)


def retest(
    result_id: str = typer.Argument(..., help="the result this retest supersedes"),
    value: str = typer.Argument(...),
    reason: str = typer.Option(..., help="why the test is repeated"),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Enter a retest: a new attempt that supersedes the result, with a reason."""
    from cartflow.manufacturing import qc
    from cartflow.manufacturing.schemas import RetestIn

    target = parse_id(result_id, "result_id")
    if not reason.strip():
        fail(_("reason: a retest needs a reason"))

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        data = RetestIn(value=number_or_text(value), reason=reason)
        row = qc.retest(session, actor=actor, result_id=target, data=data)
        flag = gettext("within specification") if row.within_spec else f"OOS: {row.failed_limit}"
        return [
            gettext(
                "{result} {test} attempt {attempt} ({flag}) supersedes {target}",
                result=row.id,
                test=row.test,
                attempt=row.attempt,
                flag=flag,
                target=target,
            )
        ]

    act(user, password_stdin, work)


def verify(
    result_ids: list[str] = typer.Argument(None, help="result ids (or use --batch)"),
    batch: str | None = typer.Option(None, help="verify every result of this batch you may"),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Verify results entered by another analyst (four-eyes)."""
    from cartflow.manufacturing import qc

    targets = [parse_id(r, "result_ids") for r in result_ids or []]
    if not targets and batch is None:
        fail(_("result_ids: give result ids or --batch"))

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        ids = list(targets)
        if batch is not None:
            record = record_of(session, actor, batch_id_of(session, actor, batch))
            ids += [
                r.id
                for r in record.results
                if r.current
                and r.verified_by is None
                and r.entered_by.username != actor.user.username
            ]
        if not ids:
            fail(_("batch: nothing awaits your verification"))
        return [
            gettext("verified {result} {test}", result=r.id, test=r.test)
            for r in (qc.verify_result(session, actor=actor, result_id=i) for i in ids)
        ]

    act(user, password_stdin, work)


def request_exception(
    batch: str = typer.Argument(..., help="batch id or DIN"),
    justification: str = typer.Option(..., help="the physician's written justification"),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """The treating physician asks, signed, for release of an out-of-specification product."""
    from cartflow.manufacturing import disposition
    from cartflow.manufacturing.schemas import ExceptionalReleaseRequestIn

    def work(session: Session, actor: Actor, password: str) -> list[str]:
        batch_id = batch_id_of(session, actor, batch)
        data = ExceptionalReleaseRequestIn(justification=justification, password=password)
        request = disposition.request_exceptional_release(
            session, actor=actor, batch_id=batch_id, data=data
        )
        return [
            gettext(
                "exceptional release request {request} signed by {name}",
                request=request.id,
                name=request.physician_printed_name,
            )
        ]

    act(user, password_stdin, work)


def _signatures(record: BatchOut) -> list[str]:
    lines = []
    for decision in record.dispositions:
        for s in decision.signatures:
            valid = gettext("verifies") if s.valid else gettext("DOES NOT VERIFY")
            lines.append(
                f"  {s.meaning}: {s.signer.printed_name}, {s.signed_at.isoformat()} ({valid})"
            )
    return lines


def release(
    batch: str = typer.Argument(..., help="batch id or DIN"),
    reason: str = typer.Option(""),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Sign the release (the first of two signatures when out of specification)."""
    from cartflow.manufacturing import disposition
    from cartflow.manufacturing.schemas import Sign

    def work(session: Session, actor: Actor, password: str) -> list[str]:
        batch_id = batch_id_of(session, actor, batch)
        disposition.release(
            session, actor=actor, batch_id=batch_id, data=Sign(password=password, reason=reason)
        )
        record = record_of(session, actor, batch_id)
        return [*summary(record), *_signatures(record)]

    act(user, password_stdin, work)


def approve(
    batch: str = typer.Argument(..., help="batch id or DIN"),
    reason: str = typer.Option(""),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Add the second signature that makes an exceptional release effective."""
    from cartflow.manufacturing import disposition
    from cartflow.manufacturing.schemas import Sign

    def work(session: Session, actor: Actor, password: str) -> list[str]:
        batch_id = batch_id_of(session, actor, batch)
        disposition.approve_exceptional_release(
            session, actor=actor, batch_id=batch_id, data=Sign(password=password, reason=reason)
        )
        record = record_of(session, actor, batch_id)
        return [*summary(record), *_signatures(record)]

    act(user, password_stdin, work)


def reject(
    batch: str = typer.Argument(..., help="batch id or DIN"),
    reason: str = typer.Option(...),
    remanufacture: bool = typer.Option(False, help="send the episode back for a new run"),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Sign the rejection of a batch."""
    from cartflow.manufacturing import disposition
    from cartflow.manufacturing.schemas import Reject

    if not reason.strip():
        fail(_("reason: a rejection needs a reason"))

    def work(session: Session, actor: Actor, password: str) -> list[str]:
        batch_id = batch_id_of(session, actor, batch)
        data = Reject(password=password, reason=reason, remanufacture=remanufacture)
        disposition.reject(session, actor=actor, batch_id=batch_id, data=data)
        return summary(record_of(session, actor, batch_id))

    act(user, password_stdin, work)


def show(
    batch: str = typer.Argument(..., help="batch id or DIN"),
    as_json: bool = typer.Option(False, "--json", help="the whole batch record as JSON"),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """The batch record: steps, results against the specification, signatures."""

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        record = record_of(session, actor, batch_id_of(session, actor, batch))
        if as_json:
            return [record.model_dump_json(indent=2)]
        lines = [
            *summary(record),
            gettext("specification version {version}", version=record.specification_version),
        ]
        lines += [
            "  "
            + gettext(
                "step {step} r{revision}: {started} -> {completed} ({step_id})",
                step=s.step.value,
                revision=s.revision,
                started=s.started_at.isoformat(),
                completed=s.completed_at.isoformat(),
                step_id=s.id,
            )
            for s in record.steps
            if s.current
        ]
        for r in record.results:
            if not r.current:
                continue
            flag = "ok" if r.within_spec else f"OOS {r.failed_limit}"
            by = (
                gettext("verified by {user}", user=r.verified_by.username)
                if r.verified_by
                else gettext("not verified")
            )
            lines.append(f"  {r.test} = {r.value} {r.unit} [{r.limit}] {flag}; {by} ({r.id})")
        return lines + _signatures(record)

    act(user, password_stdin, work)


def list_batches(
    episode: str | None = typer.Option(None, help="episode id"),
    state: str | None = typer.Option(None, help="in_process, in_qc, released, ..."),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """The batches you may see, newest first."""
    from cartflow.manufacturing.views import list_batches as read
    from cartflow.models.manufacturing import BatchState

    episode_id = parse_id(episode, "episode") if episode else None
    try:
        wanted = BatchState(state) if state else None
    except ValueError:
        fail(
            _(
                "state: unknown state {state!r}; known: {known}",
                state=state,
                known=", ".join(s.value for s in BatchState),
            )
        )

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        rows, total = read(
            session, actor=actor, episode_id=episode_id, state=wanted, limit=200, offset=0
        )
        return [
            gettext(
                "{din} {state} {product} run {run} {batch}",
                din=b.din,
                state=b.state.value,
                product=b.product_code,
                run=b.run_number,
                batch=b.id,
            )
            for b in rows
        ] + [ngettext("{n} batch", "{n} batches", total)]

    act(user, password_stdin, work)


def worklist(
    which: str = typer.Argument(..., help="qc or qp"),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """What waits for the QC laboratory (entry, verification) or the qualified person."""
    from cartflow.manufacturing import worklists

    if which not in ("qc", "qp"):
        fail(_("which: qc or qp"))

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        if which == "qc":
            return [
                gettext(
                    "{din}: enter {enter}; verify {verify}",
                    din=i.din,
                    enter=", ".join(i.awaiting_entry) or "-",
                    verify=", ".join(
                        v.test for v in i.awaiting_verification if not v.entered_by_you
                    )
                    or "-",
                )
                for i in worklists.qc_worklist(session, actor=actor)
            ]
        return [
            f"{i.din} {i.state.value}: {gettext('ready') if i.ready else '; '.join(i.blocking)}"
            + (f"; OOS {', '.join(i.out_of_specification)}" if i.out_of_specification else "")
            + ("" if i.you_may_sign else "; " + gettext("you may not sign"))
            for i in worklists.qp_worklist(session, actor=actor)
        ]

    act(user, password_stdin, work)


def certificate(
    batch: str = typer.Argument(..., help="batch id or DIN"),
    output: Path = typer.Option(..., "--output", "-o", help="where to write the PDF"),
    user: str = UserOpt,
    password_stdin: bool = PasswordStdin,
) -> None:
    """Write the certificate of analysis PDF."""
    from cartflow.db.base import utcnow
    from cartflow.manufacturing.views import certificate as render

    def work(session: Session, actor: Actor, _password: str) -> list[str]:
        pdf = render(
            session, actor=actor, batch_id=batch_id_of(session, actor, batch), now=utcnow()
        )
        try:
            output.write_bytes(pdf)
        except OSError as exc:
            fail(_("output: cannot write {path}: {error}", path=output, error=exc.strerror))
        return [gettext("wrote {path} ({size} bytes)", path=output, size=len(pdf))]

    act(user, password_stdin, work)


def tests() -> None:
    """The QC tests a specification may name."""
    from cartflow.manufacturing.specs import TESTS

    for t in TESTS.values():
        values = ", ".join(t.outcomes) if t.outcomes else f"{t.lowest:g}-{t.highest:g} {t.unit}"
        typer.echo(f"{t.name}: {t.title} [{t.kind.value}; {values}]")


def check_spec(file: Path = typer.Argument(..., help="JSON: test name -> limits")) -> None:
    """Validate release criteria before they become a product's specification."""
    from cartflow.errors import CartflowError
    from cartflow.manufacturing.specs import limit_text, parse_criteria

    try:
        criteria: Any = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(_("file: cannot read {path}: {error}", path=file, error=exc.strerror))
    except json.JSONDecodeError as exc:
        fail(_("file: not JSON (line {line}): {error}", line=exc.lineno, error=exc.msg))
    if not isinstance(criteria, dict):
        fail(_("file: expected a JSON object of test name -> limits"))
    try:
        spec = parse_criteria(criteria)
    except CartflowError as exc:
        fail(f"{exc.field}: {exc.message}")
    for name, criterion in spec.criteria.items():
        required = "" if criterion.required else " (not required for release)"
        typer.echo(f"{name}: {limit_text(name, criterion)}{required}")


def register(app: typer.Typer) -> None:
    app.command("result")(result)
    app.command("retest")(retest)
    app.command("verify")(verify)
    app.command("request-exception")(request_exception)
    app.command("release")(release)
    app.command("approve")(approve)
    app.command("reject")(reject)
    app.command("show")(show)
    app.command("list")(list_batches)
    app.command("worklist")(worklist)
    app.command("coa")(certificate)
    app.command("tests")(tests)
    app.command("check-spec")(check_spec)
