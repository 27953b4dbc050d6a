"""The `cartflow` command: one Typer app with a sub-command group per domain noun."""

from __future__ import annotations

import typer

from cartflow.cli import (
    clinical,
    demo,
    foundation,
    grading,
    identity,
    logistics,
    manufacturing,
    operations,
    registry,
    schedule,
    simulate,
)
from cartflow.i18n import locale_from_environment, set_locale

app = typer.Typer(
    no_args_is_help=True,
    help="cartflow: vein-to-vein orchestration for a CAR-T cell therapy network.",
    pretty_exceptions_enable=False,
)


@app.callback()
def _language() -> None:
    """cartflow: vein-to-vein orchestration for a CAR-T cell therapy network.

    Messages are in Russian or English: CARTFLOW_LANG=ru|en, else the POSIX locale (LANG).
    """
    set_locale(locale_from_environment())


app.add_typer(foundation.db_app, name="db", help="Database migrations.")
app.add_typer(foundation.user_app, name="user", help="User accounts.")
app.add_typer(foundation.audit_app, name="audit", help="The hash-chained audit trail.")
app.command("serve")(foundation.serve)
app.command("demo")(demo.demo)
app.add_typer(identity.app, name="identity", help="ISBT 128 identifiers and check characters.")
app.add_typer(grading.app, name="grade", help="ASTCT CRS and ICANS grading.")
app.add_typer(registry.app, name="registry", help="Outcome statistics from files.")
app.add_typer(schedule.app, name="schedule", help="Manufacturing slot plans.")
app.add_typer(manufacturing.app, name="manufacturing", help="Batches, QC results, disposition.")
app.add_typer(logistics.app, name="custody", help="Hand-offs, shipments, custody.")
app.add_typer(clinical.app, name="clinical", help="Eligibility, infusion, toxicity, follow-up.")
app.command("simulate")(simulate.simulate)
app.command("backup")(operations.backup)
app.command("restore")(operations.restore)


if __name__ == "__main__":  # pragma: no cover
    app()
