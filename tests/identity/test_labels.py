"""Labels: PDF and ZPL output, bar code content, eye-readable text (ST-001 §6, §7.4, §7.5)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from reportlab.graphics.barcode.widgets import BarcodeCode128
from reportlab.graphics.shapes import Group, String

from cartflow.identity.errors import MalformedIdentifier
from cartflow.identity.isbt128 import ChainOfIdentityId, Din, ProductCode
from cartflow.identity.labels import LabelContent, LabelKind, datamatrix_payload, expiry_text
from cartflow.identity.labels_pdf import (
    FONTS,
    IsbtDataMatrix,
    datamatrix_ascii_codewords,
    label_drawing,
    render_label_pdf,
    render_labels_pdf,
)
from cartflow.identity.labels_zpl import code128_field_data, code128_modules, render_label_zpl
from cartflow.identity.scan import ExpectedContainer, parse_scan, verify_scan

COI = ChainOfIdentityId.parse("CHA999925000007")
DIN = Din.parse("A9998 25 000123")
PRODUCT = ProductCode("S1416000")
MOSCOW = ZoneInfo("Europe/Moscow")
EXPIRES = datetime(2025, 9, 30, 20, 59, tzinfo=UTC)


def content(kind: LabelKind = LabelKind.PRODUCT_BAG, **changes: object) -> LabelContent:
    values: dict[str, object] = {
        "kind": kind,
        "coi": COI,
        "din": DIN,
        "product_code": PRODUCT,
        "product_name": "Synthetic anti-CD19 CAR-T",
        "patient_name": "Петрова Мария Ивановна",
        "date_of_birth": date(1971, 2, 3),
        "expires_at": EXPIRES,
        "label_timezone": MOSCOW,
        "storage_temperature": "≤ −150 °C",
        "facility": "A9998 demo site",
    }
    values.update(changes)
    return LabelContent(**values)  # type: ignore[arg-type]


def strings(node: object) -> list[str]:
    found: list[str] = []
    if isinstance(node, String):
        found.append(node.text)
    if isinstance(node, Group):
        for child in node.contents:
            found += strings(child)
    return found


def barcodes(node: object) -> list[str]:
    if isinstance(node, BarcodeCode128):
        return [node.value]
    if isinstance(node, Group):
        return [value for child in node.contents for value in barcodes(child)]
    return []


@pytest.mark.parametrize("kind", list(LabelKind))
def test_every_kind_renders_a_pdf_carrying_the_coi(kind: LabelKind) -> None:
    pdf = render_label_pdf(content(kind))
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert COI.value.encode() in pdf
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) == 1
    drawing = label_drawing(content(kind))
    assert COI.barcode_data() in barcodes(drawing)
    assert COI.eye_readable in strings(drawing)
    assert COI.check_character in strings(drawing)


def test_fonts_cover_cyrillic_and_are_embedded() -> None:
    # DejaVu ships with the system or with matplotlib (a pinned dependency).
    assert FONTS.cyrillic
    assert b"DejaVuSans" in render_label_pdf(content())


def test_several_labels_in_one_deterministic_pdf() -> None:
    other = ChainOfIdentityId.parse("CHA999925000008")
    pdf = render_labels_pdf([content(), content(LabelKind.SHIPPER, coi=other, din=None)])
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) == 2
    assert COI.value.encode() in pdf and other.value.encode() in pdf
    assert render_label_pdf(content()) == render_label_pdf(content())


def test_bar_codes_hold_data_structures_and_never_the_check_character() -> None:
    drawing = label_drawing(content())
    assert sorted(barcodes(drawing)) == sorted(
        [DIN.barcode_data(), PRODUCT.barcode_data(), "&>0252732359", COI.barcode_data()]
    )
    texts = strings(drawing)
    assert DIN.eye_readable in texts and DIN.check_character in texts


def test_flags_are_printed_rotated_only_for_type_1_and_2() -> None:
    assert "01" in strings(label_drawing(content(din_flags="01")))
    type3 = DIN.type3_flags
    assert type3 not in strings(label_drawing(content(din_flags=type3)))
    assert DIN.barcode_data(type3) in barcodes(label_drawing(content(din_flags=type3)))


def test_expiry_text_follows_st001_example() -> None:
    # ST-001 §7.4.4.2: "2017-01-15 15:15 EST" with "(2017-01-15 20:15 UTC)" beneath.
    at = datetime(2017, 1, 15, 20, 15, tzinfo=UTC)
    label = content(expires_at=at, label_timezone=ZoneInfo("America/New_York"))
    assert expiry_text(label) == ("2017-01-15 15:15 EST", "(2017-01-15 20:15 UTC)")


def test_captions_can_be_translated() -> None:
    label = content(captions={"coi": "Цепочка идентичности"})
    texts = strings(label_drawing(label))
    assert "Цепочка идентичности" in texts
    assert "Patient" in texts  # untranslated captions fall back to English


def test_naive_expiry_and_bad_flags_are_refused() -> None:
    with pytest.raises(MalformedIdentifier):
        content(expires_at=datetime(2025, 1, 1))  # noqa: DTZ001
    with pytest.raises(MalformedIdentifier):
        content(din_flags="0O")


def test_data_matrix_payload_is_a_scan_of_the_same_container() -> None:
    payload = datamatrix_payload(content())
    scan = parse_scan(payload)
    assert (scan.coi, scan.din, scan.product_code) == (COI, DIN, PRODUCT)
    expected = ExpectedContainer(
        coi=COI, din=DIN, product_code=PRODUCT, expires_at=EXPIRES, label_timezone=MOSCOW
    )
    assert verify_scan(expected, scan, now=datetime(2025, 9, 1, tzinfo=UTC)).accepted


def ascii_decode(codewords: list[int]) -> str:
    """ISO/IEC 16022 ASCII encodation read back: 1-128 ASCII + 1, 130-229 a digit pair, 129 pad."""
    out = []
    for codeword in codewords:
        if codeword == 129:
            break
        out.append(f"{codeword - 130:02d}" if 130 <= codeword <= 229 else chr(codeword - 1))
    return "".join(out)


@pytest.mark.parametrize("extra", ["", "1", "12", "&", "=<S12954A0"])
def test_data_matrix_codewords_read_back(extra: str) -> None:
    payload = datamatrix_payload(content()) + extra
    symbol = IsbtDataMatrix(value=payload)
    symbol.validate()
    codewords = symbol._encode_c40(symbol.validated)
    assert ascii_decode(codewords) == payload
    assert len(codewords) == 144
    assert all(1 <= codeword <= 254 for codeword in codewords)
    assert datamatrix_ascii_codewords("1234") == [142, 164]  # digit pairs: 130 + 12, 130 + 34
    with pytest.raises(MalformedIdentifier):
        datamatrix_ascii_codewords("Ж")


def test_data_matrix_finder_and_timing_patterns() -> None:
    symbol = IsbtDataMatrix(value=datamatrix_payload(content()))
    symbol.validate()
    rows = symbol.encode()  # bottom row first
    alternating = [1 - i % 2 for i in range(44)]
    for region in (0, 22):
        assert rows[region] == [1] * 44  # solid bottom edge of each region row
        assert rows[region + 21] == alternating  # alternating top edge
        assert [row[region] for row in rows] == [1] * 44  # solid left edge
        assert [row[region + 21] for row in rows] == alternating


def test_zpl_code128_field_data() -> None:
    # ZPL ^BC: ">:" subset B, ">5" to subset C, ">6" back to B, "><" is a literal ">".
    assert code128_field_data("&>0183652359") == ">:&><>50183652359"
    assert code128_field_data("=<S12954A0") == ">:=<S>51295>64A0"
    # DIN: start B, "=", "A", code C, 7 digit pairs, check, then the 13-module stop.
    assert code128_modules(code128_field_data("=A99992112345600")) == 11 * 12 + 13
    with pytest.raises(MalformedIdentifier):
        code128_field_data("^XA")


@pytest.mark.parametrize("kind", list(LabelKind))
def test_zpl_labels(kind: LabelKind) -> None:
    zpl = render_label_zpl(content(kind, patient_name="O'Brien ^~_ Ж"), dpmm=12)
    assert zpl.startswith("^XA^CI28^PW")
    assert zpl.endswith("^XZ\n")
    assert f"^FD{code128_field_data(COI.barcode_data())}^FS" in zpl
    assert f"^FD{COI.eye_readable}^FS" in zpl
    assert f"^FD{COI.check_character}^FS" in zpl
    assert "^FDO'Brien _5E_7E_5F Ж^FS" in zpl
    if kind in (LabelKind.PRODUCT_BAG, LabelKind.SHIPPER, LabelKind.COLLECTION_BAG):
        assert f"^FD{datamatrix_payload(content(kind))}^FS" in zpl


def test_zpl_flags_and_page_size() -> None:
    assert "^A0R" in render_label_zpl(content(din_flags="02"))
    assert "^A0R" not in render_label_zpl(content(din_flags=DIN.type3_flags))
    assert "^PW800^LL800" in render_label_zpl(content(), dpmm=8)
    assert "^PW1200^LL600" in render_label_zpl(content(LabelKind.CASSETTE), dpmm=12)
