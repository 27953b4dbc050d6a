"""The same labels as ZPL II, for Zebra-compatible thermal printers.

Same content and block order as the PDF (`labels.py`), and the same ISBT 128 rules (ST-001 §6,
§7.4, §7.5.1.1). ZPL specifics:
- `^CI28` makes field data UTF-8; text goes through `^FH` with `_xx` hex escapes so a `^`, `~` or
  `_` in a name cannot end the field or start a command.
- Code 128 (`^BC`) data is written with explicit invocation codes: `>:` starts subset B, `>5`
  switches to subset C for digit runs (ST-001 §6.1.1 asks for that), `>6` back to B, and a literal
  `>` (the expiry's `&>`) is `><` (ZPL II Programming Guide, ^BC, Table "Code 128 Invocation
  Characters").
- Data Matrix is `^BX` at quality 200 (ECC 200) holding the same compound message as the PDF.
- The check character K is boxed with `^GB`; Type 1 and 2 DIN flags are printed rotated
  clockwise (`R` orientation).
Printer font 0 does not cover Cyrillic on every printer: pass `font` naming a TrueType font stored
on the printer (e.g. `E:DEJAVU.TTF`) when names are not in Latin script.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

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


def code128_field_data(data: str) -> str:
    """ISBT 128 bar code data as ZPL `^BC` field data with explicit subsets."""
    if any(char in data for char in "^~") or not data.isascii():
        raise MalformedIdentifier(
            _("{data!r} cannot be printed as a ZPL Code 128 field", data=data)
        )
    out, index, subset = [">:"], 0, "B"
    while index < len(data):
        run = len(data[index:]) - len(data[index:].lstrip("0123456789"))
        if run >= 4:
            even = run - run % 2
            out += [">5", data[index : index + even]]
            index, subset = index + even, "C"
            continue
        if subset == "C":
            out.append(">6")
            subset = "B"
        out.append("><" if data[index] == ">" else data[index])
        index += 1
    return "".join(out)


def code128_modules(field_data: str) -> int:
    """Width in modules of the symbol that `code128_field_data` output describes."""
    symbols, index = 2, 2  # start code + check character; skip the leading ">:"
    while index < len(field_data):
        if field_data[index] == ">":
            symbols, index = symbols + 1, index + 2
        elif field_data[index].isdigit() and index + 1 < len(field_data):
            in_c = field_data.rfind(">5", 0, index) > field_data.rfind(">6", 0, index)
            symbols, index = symbols + 1, index + (2 if in_c else 1)
        else:
            symbols, index = symbols + 1, index + 1
    return 11 * symbols + 13


def _hex_text(text: str) -> str:
    return "".join(f"_{ord(char):02X}" if char in "^~_" else char for char in text)


class _Zpl:
    """Collects commands; all coordinates are in dots from the top-left corner."""

    def __init__(self, dpmm: int, font: str) -> None:
        self.dpmm, self.font, self.lines = dpmm, font, list[str]()

    def dots(self, millimetres: float) -> int:
        return round(millimetres * self.dpmm)

    def text(self, x: int, y: int, text: str, mm_high: float, width: int, lines: int = 1) -> int:
        h = self.dots(mm_high)
        font = f"^A0N,{h},{h}" if self.font == "0" else f"^A@N,{h},{h},{self.font}"
        block = f"^FB{width},{lines},0,L,0"
        self.lines.append(f"^FO{x},{y}{font}{block}^FH_^FD{_hex_text(text)}^FS")
        return h * lines + self.dots(0.6)

    def code128(self, x: int, y: int, data: str, width: int) -> int:
        field = code128_field_data(data)
        module = max(1, self.dots(0.25))
        # Ten modules of quiet zone on the right; the left one is the margin or the column gap.
        if module * (code128_modules(field) + 10) > width or module < self.dpmm * 0.17:
            raise MalformedIdentifier(_("bar code {data!r} does not fit the ZPL label", data=data))
        height = self.dots(8)
        self.lines.append(f"^FO{x},{y}^BY{module}^BCN,{height},N,N,N,N^FD{field}^FS")
        return height + self.dots(1.2)


Block = Callable[[_Zpl, LabelContent, int, int, int], int]


def _identifier(
    z: _Zpl,
    caption: str,
    ident: Din | ChainOfIdentityId,
    data: str,
    x: int,
    y: int,
    w: int,
    flags: str = "00",
) -> int:
    top = y
    y += z.text(x, y, caption, 2, w)
    y += z.code128(x, y, data, w)
    h = z.dots(3.5)
    z.lines.append(f"^FO{x},{y}^A0N,{h},{h}^FD{ident.eye_readable}^FS")
    kx = x + round(len(ident.eye_readable + " ") * h * 0.6)
    z.lines.append(f"^FO{kx - 4},{y - 4}^GB{round(h * 0.6) + 8},{h + 8},2^FS")
    z.lines.append(f"^FO{kx},{y}^A0N,{h},{h}^FD{ident.check_character}^FS")
    if flags_are_printed(flags):
        z.lines.append(f"^FO{kx + h},{y}^A0R,{h // 2},{h // 2}^FD{flags}^FS")
    return y + h + z.dots(2.5) - top


def _coi(z: _Zpl, c: LabelContent, x: int, y: int, w: int) -> int:
    return _identifier(z, c.caption("coi"), c.coi, c.coi.barcode_data(), x, y, w)


def _din(z: _Zpl, c: LabelContent, x: int, y: int, w: int) -> int:
    if c.din is None:
        return 0
    data = c.din.barcode_data(c.din_flags)
    return _identifier(z, c.caption("din"), c.din, data, x, y, w, c.din_flags)


def _product(z: _Zpl, c: LabelContent, x: int, y: int, w: int) -> int:
    top = y
    if c.product_code is not None:
        y += z.text(x, y, c.caption("product_code"), 2, w)
        y += z.code128(x, y, c.product_code.barcode_data(), w)
        y += z.text(x, y, c.product_code.value, 3, w)
    else:
        y += z.text(x, y, c.caption("product"), 2, w)
    return y + z.text(x, y, c.product_name, 2.8, w, lines=2) - top


def _expiry(z: _Zpl, c: LabelContent, x: int, y: int, w: int) -> int:
    if c.expires_at is None:
        return 0
    top, (local, utc) = y, expiry_text(c)
    y += z.text(x, y, c.caption("expiry"), 2, w)
    y += z.code128(x, y, expiry_barcode_data(c.expires_at, c.label_timezone), w)
    y += z.text(x, y, local, 3, w)
    return y + z.text(x, y, utc, 2.4, w) - top


def _patient(z: _Zpl, c: LabelContent, x: int, y: int, w: int) -> int:
    top = y
    y += z.text(x, y, c.caption("patient"), 2, w)
    y += z.text(x, y, c.patient_name, 3.5, w, lines=2)
    if c.date_of_birth is not None:
        y += z.text(x, y, f"{c.caption('date_of_birth')}: {c.date_of_birth.isoformat()}", 2.8, w)
    return y - top


def _storage(z: _Zpl, c: LabelContent, x: int, y: int, w: int) -> int:
    top = y
    if c.storage_temperature:
        y += z.text(x, y, c.caption("storage"), 2, w)
        y += z.text(x, y, c.storage_temperature, 3.5, w)
    if c.facility:
        y += z.text(x, y, f"{c.caption('facility')}: {c.facility}", 2, w, lines=2)
    return y + z.text(x, y, c.caption("verify"), 2, w, lines=2) - top


def _summary(z: _Zpl, c: LabelContent, x: int, y: int, w: int) -> int:
    top = y
    y += z.text(x, y, c.caption("product"), 2, w)
    if c.product_code is not None:
        y += z.text(x, y, c.product_code.value, 3, w)
    y += z.text(x, y, c.product_name, 2.8, w, lines=2)
    if c.expires_at is not None:
        y += z.text(x, y, f"{c.caption('expiry')}: {expiry_text(c)[0]}", 2.8, w)
    return y - top


def _datamatrix(z: _Zpl, c: LabelContent, x: int, y: int, w: int) -> int:
    module = max(z.dots(0.25), min(z.dots(0.5), (w - z.dots(2)) // 44))
    z.lines.append(f"^FO{x + module},{y + module}^BXN,{module},200^FD{datamatrix_payload(c)}^FS")
    return 44 * module + 2 * module + z.dots(1.2)


_BLOCKS: Final[Mapping[str, Block]] = MappingProxyType(
    {
        "coi": _coi,
        "din": _din,
        "product": _product,
        "expiry": _expiry,
        "patient": _patient,
        "storage": _storage,
        "summary": _summary,
        "datamatrix": _datamatrix,
    }
)


def render_label_zpl(content: LabelContent, *, dpmm: int = 8, font: str = "0") -> str:
    """One `^XA ... ^XZ` label; `dpmm` is the printer's dots per mm (8 = 203 dpi, 12 = 300 dpi)."""
    z = _Zpl(dpmm, font)
    width_mm, height_mm = PAGE_SIZES_MM[content.kind]
    margin, inner = z.dots(4), z.dots(width_mm - 8)
    title = content.caption(f"title.{content.kind.value}")
    band = z.dots(6)
    z.lines.append(f"^FO{margin},{margin}^GB{inner},{band},{band}^FS")
    h = z.dots(3)
    z.lines.append(
        f"^FO{margin + z.dots(1)},{margin + (band - h) // 2}^A0N,{h},{h}^FR"
        f"^FB{inner - z.dots(2)},1,0,L,0^FH_^FD{_hex_text(title)}^FS"
    )
    y = margin + band + z.dots(2)
    for row in LAYOUTS[content.kind]:
        x, used = margin, 0
        for name, share in row:
            width = round(inner * share)
            used = max(used, _BLOCKS[name](z, content, x, y, width - z.dots(2)))
            x += width
        y += used
    if y > z.dots(height_mm):
        raise MalformedIdentifier(
            _("the {kind} label content does not fit the label", kind=content.kind.value)
        )
    head = f"^XA^CI28^PW{z.dots(width_mm)}^LL{z.dots(height_mm)}^LH0,0"
    return "\n".join([head, *z.lines, "^XZ"]) + "\n"
