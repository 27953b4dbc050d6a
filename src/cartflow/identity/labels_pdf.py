"""Container labels as PDF: Code 128 and Data Matrix bar codes with their eye-readable text.

Renders a `cartflow.identity.labels.LabelContent` following its `LAYOUTS` (the ST-001 rules are
listed there). PDF specifics: identifiers in a typeface that tells 0 from O and 1 from I (DejaVu
Sans Mono: dotted zero, serifed one; ST-001 §7.4 and §7.5.1.1); DejaVu fonts are embedded so
Cyrillic prints; reportlab draws the Code 128 and Data Matrix symbols (its C40 Data Matrix
encodation is replaced by ASCII encodation, see `IsbtDataMatrix`).
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.widgets import BarcodeCode128, BarcodeECC200DataMatrix
from reportlab.graphics.shapes import Drawing, Group, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm as _reportlab_mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import registerFont, stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from cartflow.i18n import _
from cartflow.identity.errors import MalformedIdentifier
from cartflow.identity.isbt128 import ChainOfIdentityId, Din, flags_are_printed
from cartflow.identity.labels import (
    LAYOUTS,
    PAGE_SIZES_MM,
    LabelContent,
    datamatrix_payload,
    expiry_text,
)
from cartflow.identity.scan import expiry_barcode_data

MM: Final[float] = float(_reportlab_mm)


# --- fonts and the 2-D symbol -------------------------------------------------------------------


@dataclass(frozen=True)
class LabelFonts:
    sans: str
    sans_bold: str
    mono: str
    mono_bold: str
    cyrillic: bool


def _font_dirs() -> list[Path]:
    dirs = [Path("/usr/share/fonts/truetype/dejavu")]
    # matplotlib, a pinned dependency, ships the same DejaVu files: a fallback on bare machines.
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin is not None:
        dirs.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf")
    return dirs


def _register_fonts() -> LabelFonts:
    files = {
        "CartflowSans": "DejaVuSans.ttf",
        "CartflowSans-Bold": "DejaVuSans-Bold.ttf",
        "CartflowMono": "DejaVuSansMono.ttf",
        "CartflowMono-Bold": "DejaVuSansMono-Bold.ttf",
    }
    for folder in _font_dirs():
        if all((folder / name).is_file() for name in files.values()):
            for face, name in files.items():
                registerFont(TTFont(face, str(folder / name)))
            return LabelFonts(
                "CartflowSans", "CartflowSans-Bold", "CartflowMono", "CartflowMono-Bold", True
            )
    # Without DejaVu, the PDF base fonts still print Latin text; Cyrillic names will not.
    return LabelFonts("Helvetica", "Helvetica-Bold", "Courier", "Courier-Bold", False)


FONTS: Final = _register_fonts()


class IsbtDataMatrix(BarcodeECC200DataMatrix):  # type: ignore[misc]
    """reportlab's 44x44 ECC 200 symbol with ASCII encodation instead of its C40.

    reportlab pads a last C40 triplet holding one value with two Shift 1 values, which a reader
    decodes as a trailing NUL (ISO/IEC 16022 §5.2.5.2 allows that padding only for two values),
    and its 253-state padding yields 0 where the standard keeps 254. ASCII encodation (digit
    pairs in one codeword) has neither problem and fits a compound message easily.
    """

    def _encode_c40(self, value: str) -> list[int]:
        codewords = datamatrix_ascii_codewords(value)
        if len(codewords) > self.cw_data:
            raise MalformedIdentifier(_("too much data for the 44x44 Data Matrix symbol"))
        if len(codewords) < self.cw_data:
            codewords.append(129)
        while len(codewords) < self.cw_data:
            pad = 129 + (149 * (len(codewords) + 1)) % 253 + 1
            codewords.append(pad if pad <= 254 else pad - 254)
        return codewords


def datamatrix_ascii_codewords(value: str) -> list[int]:
    """ISO/IEC 16022 ASCII encodation: a digit pair is 130 + its value, other ASCII is code + 1."""
    codewords: list[int] = []
    index = 0
    while index < len(value):
        pair = value[index : index + 2]
        if len(pair) == 2 and pair[0] in "0123456789" and pair[1] in "0123456789":
            codewords.append(130 + int(pair))
            index += 2
            continue
        if ord(value[index]) > 127:
            raise MalformedIdentifier(
                _("{char!r} cannot go in an ISBT 128 bar code", char=value[index])
            )
        codewords.append(ord(value[index]) + 1)
        index += 1
    return codewords


# --- drawing ------------------------------------------------------------------------------------

X_TARGET: Final = 0.25 * MM
X_MINIMUM: Final = 0.17 * MM
BAR_HEIGHT: Final = 8 * MM
GAP: Final = 1.2 * MM


def _fit(text: str, font: str, size: float, width: float, *, smallest: float = 5.0) -> float:
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.25
    return size


def _text(
    group: Group, text: str, x: float, y: float, font: str, size: float, width: float
) -> float:
    """Draw `text` with its top at y, shrunk a little or wrapped to fit `width`; returns height."""
    size = _fit(text, font, size, width, smallest=max(5.0, size * 0.8))
    lines = simpleSplit(text, font, size, width) or [""]
    for number, line in enumerate(lines):
        top = y - number * size * 1.05
        group.add(String(x, top - size * 0.8, line, fontName=font, fontSize=size))
    return len(lines) * size * 1.05


def _bars(data: str, x_dimension: float) -> BarcodeCode128:
    quiet = 10 * x_dimension
    return BarcodeCode128(
        value=data,
        barWidth=x_dimension,
        barHeight=BAR_HEIGHT,
        humanReadable=0,
        lquiet=quiet,
        rquiet=quiet,
    )


def _code128(group: Group, data: str, x: float, y: float, width: float) -> float:
    bars = _bars(data, X_TARGET)
    if bars.width > width:
        narrower = X_TARGET * width / bars.width
        if narrower < X_MINIMUM:
            raise MalformedIdentifier(
                _("bar code {data!r} does not fit {width} mm", data=data, width=f"{width / MM:.0f}")
            )
        bars = _bars(data, narrower)
    # The quiet zone sits left of x so the text lines up with the first bar (§7.4.2.1).
    bars.x, bars.y = x - bars.lquiet, y - BAR_HEIGHT
    group.add(bars)
    return BAR_HEIGHT + GAP


def _boxed(group: Group, text: str, k: str, x: float, y: float, size: float) -> float:
    """Eye-readable identifier with K boxed after it (§7.5.1.1)."""
    group.add(String(x, y - size * 0.8, text, fontName=FONTS.mono_bold, fontSize=size))
    kx = x + stringWidth(text + " ", FONTS.mono_bold, size)
    pad = size * 0.18
    group.add(
        Rect(
            kx - pad,
            y - size * 0.95,
            stringWidth(k, FONTS.mono_bold, size) + 2 * pad,
            size * 1.1,
            fillColor=None,
            strokeColor=colors.black,
            strokeWidth=0.8,
        )
    )
    group.add(String(kx, y - size * 0.8, k, fontName=FONTS.mono_bold, fontSize=size))
    return size * 1.2


def _identifier_block(
    group: Group,
    caption: str,
    identifier: Din | ChainOfIdentityId,
    data: str,
    x: float,
    y: float,
    w: float,
    flags: str = "00",
) -> float:
    top, text, k = y, identifier.eye_readable, identifier.check_character
    y -= _text(group, caption, x, y, FONTS.sans, 6, w)
    y -= _code128(group, data, x, y, w)
    size = _fit(text + " WW", FONTS.mono_bold, 10, w)
    y -= _boxed(group, text, k, x, y, size)
    if flags_are_printed(flags):
        # Type 1 and 2 flags: rotated 90 degrees clockwise beside the DIN (§7.4.1).
        fx = x + stringWidth(text + " " + k + "  ", FONTS.mono_bold, size)
        flag = Group(String(0, 0, flags, fontName=FONTS.mono, fontSize=size * 0.6))
        flag.translate(fx, y + size * 1.1)
        flag.rotate(-90)
        group.add(flag)
    return top - y + GAP


Block = Callable[[Group, LabelContent, float, float, float], float]


def _coi_block(g: Group, c: LabelContent, x: float, y: float, w: float) -> float:
    return _identifier_block(g, c.caption("coi"), c.coi, c.coi.barcode_data(), x, y, w)


def _din_block(g: Group, c: LabelContent, x: float, y: float, w: float) -> float:
    if c.din is None:
        return 0.0
    data = c.din.barcode_data(c.din_flags)
    return _identifier_block(g, c.caption("din"), c.din, data, x, y, w, c.din_flags)


def _product_block(g: Group, c: LabelContent, x: float, y: float, w: float) -> float:
    top = y
    if c.product_code is not None:
        y -= _text(g, c.caption("product_code"), x, y, FONTS.sans, 6, w)
        y -= _code128(g, c.product_code.barcode_data(), x, y, w)
        y -= _text(g, c.product_code.value, x, y, FONTS.mono_bold, 9, w)
    else:
        y -= _text(g, c.caption("product"), x, y, FONTS.sans, 6, w)
    y -= _text(g, c.product_name, x, y, FONTS.sans_bold, 8, w)
    return top - y + GAP


def _expiry_block(g: Group, c: LabelContent, x: float, y: float, w: float) -> float:
    if c.expires_at is None:
        return 0.0
    top = y
    local, utc = expiry_text(c)
    y -= _text(g, c.caption("expiry"), x, y, FONTS.sans, 6, w)
    y -= _code128(g, expiry_barcode_data(c.expires_at, c.label_timezone), x, y, w)
    y -= _text(g, local, x, y, FONTS.sans_bold, 9, w)
    y -= _text(g, utc, x, y, FONTS.sans, 7, w)
    return top - y + GAP


def _summary_block(g: Group, c: LabelContent, x: float, y: float, w: float) -> float:
    """Product and expiry as text only, for labels too small for their bar codes (§7.3.1)."""
    top = y
    y -= _text(g, c.caption("product"), x, y, FONTS.sans, 6, w)
    if c.product_code is not None:
        y -= _text(g, c.product_code.value, x, y, FONTS.mono_bold, 9, w)
    y -= _text(g, c.product_name, x, y, FONTS.sans_bold, 8, w)
    if c.expires_at is not None:
        y -= _text(g, f"{c.caption('expiry')}: {expiry_text(c)[0]}", x, y, FONTS.sans_bold, 8, w)
    return top - y + GAP


def _patient_block(g: Group, c: LabelContent, x: float, y: float, w: float) -> float:
    top = y
    y -= _text(g, c.caption("patient"), x, y, FONTS.sans, 6, w)
    y -= _text(g, c.patient_name, x, y, FONTS.sans_bold, 10, w)
    if c.date_of_birth is not None:
        dob = f"{c.caption('date_of_birth')}: {c.date_of_birth.isoformat()}"
        y -= _text(g, dob, x, y, FONTS.sans, 8, w)
    return top - y + GAP


def _storage_block(g: Group, c: LabelContent, x: float, y: float, w: float) -> float:
    top = y
    if c.storage_temperature:
        y -= _text(g, c.caption("storage"), x, y, FONTS.sans, 6, w)
        y -= _text(g, c.storage_temperature, x, y, FONTS.sans_bold, 10, w)
    if c.facility:
        y -= _text(g, f"{c.caption('facility')}: {c.facility}", x, y, FONTS.sans, 6, w)
    y -= _text(g, c.caption("verify"), x, y, FONTS.sans, 6, w)
    return top - y + GAP


def _datamatrix_block(g: Group, c: LabelContent, x: float, y: float, w: float) -> float:
    module = min(0.5 * MM, max(0.3 * MM, (w - 2 * MM) / 44))
    placed = Group(IsbtDataMatrix(value=datamatrix_payload(c), barWidth=module))
    # Kept at the widget's origin and moved by the group: reportlab's ECC200DataMatrix.draw adds
    # the widget's x and y once more, so a symbol placed by x and y lands off the label.
    placed.translate(x + module, y - module - 44 * module)
    g.add(placed)
    return 44 * module + 2 * module + GAP


_BLOCKS: Final[Mapping[str, Block]] = MappingProxyType(
    {
        "coi": _coi_block,
        "din": _din_block,
        "product": _product_block,
        "expiry": _expiry_block,
        "patient": _patient_block,
        "storage": _storage_block,
        "summary": _summary_block,
        "datamatrix": _datamatrix_block,
    }
)
MARGIN: Final = 4 * MM


def label_drawing(content: LabelContent) -> Drawing:
    """The label as a reportlab Drawing (page-sized, in points)."""
    width_mm, height_mm = PAGE_SIZES_MM[content.kind]
    drawing = Drawing(width_mm * MM, height_mm * MM)
    page = Group()
    inner = drawing.width - 2 * MARGIN
    y = drawing.height - MARGIN
    title = content.caption(f"title.{content.kind.value}")
    band = 6 * MM
    page.add(Rect(MARGIN, y - band, inner, band, fillColor=colors.black, strokeColor=None))
    size = _fit(title, FONTS.sans_bold, 9, inner - 2 * MM)
    page.add(
        String(
            MARGIN + 1 * MM,
            y - band / 2 - size * 0.35,
            title,
            fontName=FONTS.sans_bold,
            fontSize=size,
            fillColor=colors.white,
        )
    )
    y -= band + 2 * MM
    for row in LAYOUTS[content.kind]:
        x, used = MARGIN, 0.0
        for name, share in row:
            width = inner * share
            used = max(used, _BLOCKS[name](page, content, x, y, width - 2 * MM))
            x += width
        y -= used
    if y < 0:
        raise MalformedIdentifier(
            _("the {kind} label content does not fit the label", kind=content.kind.value)
        )
    drawing.add(page)
    return drawing


def render_labels_pdf(contents: Sequence[LabelContent]) -> bytes:
    """One page per label, each page the label's own size, fonts embedded."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    cois = ", ".join(dict.fromkeys(c.coi.value for c in contents))
    canvas.setTitle(f"cartflow labels {cois}")
    canvas.setSubject(f"ISBT 128 Chain of Identity {cois}")
    canvas.setCreator("cartflow")
    for content in contents:
        drawing = label_drawing(content)
        canvas.setPageSize((drawing.width, drawing.height))
        renderPDF.draw(drawing, canvas, 0, 0)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_label_pdf(content: LabelContent) -> bytes:
    return render_labels_pdf([content])
