"""`cartflow identity`: ISBT 128 check characters, scans and sample labels.

Stable contract (issue 3, item 2), used by planners and checks:
- `check-character VALUE` prints the one check character of a DIN (13 characters) or chain of
  identity identifier (15), spaces ignored; a malformed value exits 2 with one line on stderr.
- `verify "A9999 21 123456 3"` exits 0 when the check character is right, 1 when it is wrong and 2
  with one line on stderr when the value is malformed.

The words of VALUE may also be given unquoted (`verify A9999 21 123456 3`): they are joined.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from cartflow.cli.common import fail
from cartflow.errors import CartflowError
from cartflow.i18n import _, current_locale, gettext
from cartflow.identity.isbt128 import (
    ChainOfIdentityId,
    Din,
    ProductCode,
    parse_identifier,
    parse_keyed,
)
from cartflow.identity.scan import parse_scan

if TYPE_CHECKING:
    from cartflow.identity.labels import LabelContent, LabelKind

app = typer.Typer(no_args_is_help=True, help="ISBT 128 identifiers and check characters.")

Words = Annotated[list[str], typer.Argument(help="The value; spaces are ignored.")]


@app.command("check-character")
def check_character(value: Words) -> None:
    """Print the check character K of a DIN or chain of identity identifier."""
    try:
        identifier = parse_identifier(" ".join(value))
    except CartflowError as error:
        fail(error.message)
    typer.echo(identifier.check_character)


@app.command("verify")
def verify(value: Words) -> None:
    """Exit 0 if the trailing check character is right, 1 if wrong, 2 if malformed."""
    try:
        identifier, keyed = parse_keyed(" ".join(value))
    except CartflowError as error:
        fail(error.message)
    if identifier.check_character != keyed:
        # The right character is not printed: the point is to make people re-read the label.
        fail(
            _(
                "check character {keyed} does not match {identifier}",
                keyed=keyed,
                identifier=identifier.eye_readable,
            ),
            code=1,
        )
    typer.echo(
        gettext(
            "{identifier} {keyed}: check character is right",
            identifier=identifier.eye_readable,
            keyed=keyed,
        )
    )


@app.command("parse-scan")
def parse_scan_command(
    raw: Annotated[str, typer.Argument(help="The string the scanner typed (quote it).")],
) -> None:
    """Print what a scanned string contains, as JSON; exit 2 with the reason if malformed."""
    try:
        scan = parse_scan(raw)
    except CartflowError as error:
        fail(error.message)
    expiry = scan.expiry
    out = {
        "entry": scan.entry,
        "structures": list(scan.structures),
        "din": scan.din.eye_readable if scan.din else None,
        "din_flags": scan.din_flags,
        "coi": scan.coi.eye_readable if scan.coi else None,
        "product_code": str(scan.product_code) if scan.product_code else None,
        "expiry_date": expiry.day.isoformat() if expiry else None,
        "expiry_time": expiry.time_of_day.strftime("%H:%M")
        if expiry and expiry.time_of_day
        else None,
        "keyed_check_character": scan.keyed_check_character,
    }
    typer.echo(json.dumps(out, indent=2))


@app.command("sample-label")
def sample_label(
    out: Annotated[Path, typer.Argument(help="Where to write the label (.pdf, or .zpl).")],
    kind: Annotated[str, typer.Option(help="collection-bag, product-bag, cassette or shipper")] = (
        "product-bag"
    ),
    lang: Annotated[
        str | None, typer.Option(help="caption language, ru or en (default: CARTFLOW_LANG)")
    ] = None,
) -> None:
    """Write a label for a synthetic demo episode (example FINs, fictitious patient)."""
    # Imported here: reportlab and the fonts would slow every other identity command.
    from cartflow.i18n import LOCALES
    from cartflow.identity.labels import LabelKind
    from cartflow.identity.labels_pdf import render_label_pdf
    from cartflow.identity.labels_zpl import render_label_zpl

    try:
        label_kind = LabelKind(kind)
    except ValueError:
        fail(
            _(
                "unknown label kind {kind!r}; use one of {kinds}",
                kind=kind,
                kinds=", ".join(k.value for k in LabelKind),
            )
        )
    if lang is not None and lang not in LOCALES:
        fail(_("--lang: {lang!r} is not one of {locales}", lang=lang, locales=", ".join(LOCALES)))
    content = demo_label_content(label_kind, locale=lang or current_locale())
    if out.suffix.lower() == ".zpl":
        out.write_text(render_label_zpl(content), encoding="utf-8")
    else:
        out.write_bytes(render_label_pdf(content))
    typer.echo(str(out))


def demo_label_content(kind: LabelKind, *, locale: str = "en") -> LabelContent:
    """A synthetic label: ST-001's example FIN A9999, a fictitious patient, the demo's product code.

    A real site prints with its own ICCBBA-licensed FIN and its product's licensed code.
    """
    from cartflow.identity.labels import LabelContent, LabelKind, label_captions

    product = kind is not LabelKind.COLLECTION_BAG
    storage = (_("≤ −150 °C (LN2 vapour phase)") if product else _("2-8 °C, do not freeze")).render(
        locale
    )
    return LabelContent(
        kind=kind,
        coi=ChainOfIdentityId("A9999", "25", "000001"),
        din=Din("A9999", "25", "000017" if product else "000016"),
        product_code=ProductCode("S1416000") if product else None,
        product_name="Gemagenleycleucel (anti-CD19 CAR-T)" if product else "Apheresis, MNC",
        patient_name="Иванова Анна Петровна",
        date_of_birth=date(1968, 4, 12),
        expires_at=datetime(2025, 9, 30, 20, 59, tzinfo=UTC) if product else None,
        label_timezone=ZoneInfo("Europe/Moscow"),
        storage_temperature=storage,
        facility="A9999 NMRC of Hematology, Moscow (example FIN)",
        captions=label_captions(locale),
    )
