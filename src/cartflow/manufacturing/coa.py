"""The certificate of analysis of a batch, as a PDF (reportlab).

It shows, for the specification version the batch was tested against, each test's limit, the
result, whether it conforms (and the limit it fails), who entered and who verified it and when,
the retests with their reasons, the physician's request of an exceptional release, and every
signature's manifestation: printed name, UTC date and time, meaning, and whether it still verifies
against what was signed (21 CFR 11.50: the manifestation appears on every printout). A batch not
yet dispositioned prints as a draft.

DejaVu Sans is embedded so Cyrillic names print: from /usr/share/fonts/truetype/dejavu when the
system has it, else the copy bundled with matplotlib (a pinned dependency).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cartflow.i18n import gettext
from cartflow.manufacturing.schemas import BatchOut, QcResultOut, SignatureOut
from cartflow.models.manufacturing import BatchState


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    cyrillic: bool


def font_dirs() -> list[Path]:
    dirs = [Path("/usr/share/fonts/truetype/dejavu")]
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin is not None:
        dirs.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    return dirs


@cache
def fonts() -> Fonts:
    for folder in font_dirs():
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont("CoaDejaVuSans", str(regular)))
            pdfmetrics.registerFont(TTFont("CoaDejaVuSans-Bold", str(bold)))
            return Fonts("CoaDejaVuSans", "CoaDejaVuSans-Bold", True)
    # Without DejaVu the base fonts still print Latin text; Cyrillic names will not.
    return Fonts("Helvetica", "Helvetica-Bold", False)


@dataclass(frozen=True)
class CertificateHeader:
    product_name: str
    product_code: str
    site_name: str
    specification_source: str
    generated_at: dt.datetime


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _value(result: QcResultOut) -> str:
    if isinstance(result.value, float):
        text = f"{result.value:.3g}" if abs(result.value) >= 1e5 else f"{result.value:g}"
    else:
        text = result.value
    return f"{text} {result.unit}".strip()


def status_text(batch: BatchOut) -> str:
    """The status line, in the current language (the certificate is printed in the reader's)."""
    if batch.state is BatchState.RELEASED:
        return gettext("RELEASED")
    if batch.state is BatchState.REJECTED:
        return gettext("REJECTED")
    if batch.state is BatchState.AWAITING_SECOND_SIGNATURE:
        return gettext("DRAFT: exceptional release awaits second signature")
    if batch.state is BatchState.TERMINATED:
        return gettext("TERMINATED: not for use")
    return gettext("DRAFT: not yet dispositioned")


def result_rows(batch: BatchOut) -> list[list[str]]:
    """The results table, current results only, in specification order."""
    order = {c.test: i for i, c in enumerate(batch.specification)}
    current = sorted((r for r in batch.results if r.current), key=lambda r: order.get(r.test, 99))
    rows = []
    for r in current:
        conforms = (
            gettext("yes") if r.within_spec else gettext("NO (fails {limit})", limit=r.failed_limit)
        )
        verified = (
            f"{r.verified_by.printed_name}, {_when(r.verified_at)}"
            if r.verified_by
            else gettext("NOT VERIFIED")
        )
        rows.append(
            [
                r.title
                + (gettext(" (retest {attempt})", attempt=r.attempt) if r.attempt > 1 else ""),
                r.limit,
                _value(r),
                conforms,
                f"{r.entered_by.printed_name}, {_when(r.entered_at)}",
                verified,
            ]
        )
    return rows


def signature_rows(batch: BatchOut) -> list[list[str]]:
    signatures: list[SignatureOut] = []
    if batch.exceptional_request is not None:
        signatures.append(batch.exceptional_request.signature)
    for disposition in batch.dispositions:
        signatures.extend(disposition.signatures)
    return [
        [
            s.meaning,
            s.signer.printed_name,
            _when(s.signed_at),
            gettext("verifies") if s.valid else gettext("DOES NOT VERIFY"),
        ]
        for s in signatures
    ]


def render_certificate(batch: BatchOut, header: CertificateHeader) -> bytes:
    f = fonts()
    base = ParagraphStyle("base", fontName=f.regular, fontSize=8.5, leading=10.5, alignment=TA_LEFT)
    bold = ParagraphStyle("bold", parent=base, fontName=f.bold)
    title = ParagraphStyle("title", parent=bold, fontSize=15, leading=19, spaceAfter=2 * mm)
    heading = ParagraphStyle("heading", parent=bold, fontSize=10.5, leading=13, spaceBefore=4 * mm)

    def p(text: str, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(escape(text), style)

    def table(rows: list[list[str]], widths: list[float], head: list[str]) -> Table:
        data: list[list[Any]] = [[p(h, bold) for h in head]] + [[p(c) for c in r] for r in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return t

    steps = {s.step.value: s for s in batch.steps if s.current}
    receipt = steps.get("apheresis_receipt")
    frozen = steps.get("cryopreservation")
    facts = [
        [gettext("Product"), f"{header.product_name} ({header.product_code})"],
        [gettext("Batch (DIN)"), f"{batch.din[:5]} {batch.din[5:7]} {batch.din[7:]}"],
        [gettext("Chain of identity"), batch.chain_of_identity or ""],
        [gettext("Manufacturing site"), header.site_name],
        [
            gettext("Device; run"),
            gettext("{device}; run {run}", device=batch.device_code, run=batch.run_number),
        ],
        [gettext("Apheresis received"), _when(receipt.completed_at) if receipt else ""],
        [gettext("Cryopreserved"), _when(frozen.completed_at) if frozen else ""],
        [
            gettext("Specification"),
            gettext(
                "version {version}; {source}",
                version=batch.specification_version,
                source=header.specification_source,
            ),
        ],
        [gettext("Status"), status_text(batch)],
    ]
    story: list[Any] = [
        p(gettext("Certificate of analysis"), title),
        table(facts, [45 * mm, 135 * mm], ["", ""]),
        p(gettext("Release testing"), heading),
        table(
            result_rows(batch),
            # Wide enough for the longer Russian captions and test names without breaking a word.
            [42 * mm, 31 * mm, 22 * mm, 30 * mm, 28 * mm, 27 * mm],
            [
                gettext("Test"),
                gettext("Specification"),
                gettext("Result"),
                gettext("Conforms"),
                gettext("Entered"),
                gettext("Verified"),
            ],
        ),
    ]
    retests = [r for r in batch.results if not r.current]
    if retests:
        story += [
            p(gettext("Superseded results"), heading),
            table(
                [[r.title, str(r.attempt), _value(r), _when(r.entered_at)] for r in retests],
                [60 * mm, 20 * mm, 40 * mm, 60 * mm],
                [gettext("Test"), gettext("Attempt"), gettext("Result"), gettext("Entered")],
            ),
        ]
        reasons = [r for r in batch.results if r.retest_reason]
        story += [
            p(gettext("Retest of {test}: {reason}", test=r.title, reason=r.retest_reason))
            for r in reasons
        ]
    request = batch.exceptional_request
    if request is not None:
        story += [
            p(gettext("Exceptional release requested by the treating physician"), heading),
            p(f"{request.physician.printed_name}, {_when(request.requested_at)}"),
            p(request.justification),
        ]
    story += [
        p(gettext("Electronic signatures"), heading),
        table(
            signature_rows(batch),
            [60 * mm, 45 * mm, 40 * mm, 35 * mm],
            [gettext("Meaning"), gettext("Printed name"), gettext("Signed"), gettext("Signature")],
        )
        if signature_rows(batch)
        else p(gettext("none")),
        Spacer(1, 4 * mm),
        p(
            gettext(
                "Generated {moment} by cartflow from the electronic batch record. Signatures "
                "are bound to the signed content (21 CFR 11.50, 11.70).",
                moment=_when(header.generated_at),
            )
        ),
    ]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(f.regular, 7)
        canvas.drawString(15 * mm, 10 * mm, f"{gettext('Certificate of analysis')} {batch.din}")
        canvas.drawRightString(195 * mm, 10 * mm, gettext("page {page}", page=doc.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{gettext('Certificate of analysis')} {batch.din}",
        subject=f"{header.product_code} {batch.din} {status_text(batch)}",
        author="cartflow",
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
