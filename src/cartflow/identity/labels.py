"""What a container label says: kind, page size, block layout, captions and content.

The content is shared by the two renderers: `labels_pdf` (reportlab, PDF with Code 128 and Data
Matrix symbols) and `labels_zpl` (ZPL II for thermal printers). Rules both follow (ICCBBA ST-001
v6.2.2):
- §6.1: linear bar codes are Code 128 with subset C for digit runs, target X 0.25 mm (never below
  0.17 mm), quiet zones of 10 X, height at least 5 mm and 15 % of the length.
- §6.2, §2.4.23: the 2-D symbol is Data Matrix ECC 200 (X at least 0.25 mm) holding an
  undefined-sequence compound message of the label's data structures (`datamatrix_payload`).
- §7.4.1, §7.4.2.1: eye-readable text under each bar code, without data identifiers; Type 1 and 2
  DIN flags printed rotated 90 degrees clockwise, Type 3 flags never printed.
- §7.5.1.1: the check character K boxed beside the eye-readable DIN and chain of identity
  identifier, never inside a bar code.
- §7.4.4.2: dates in ISO 8601; a cellular therapy expiry in local time with the zone, and UTC
  beneath it in parentheses (`expiry_text`).
The positions of the blocks are cartflow's own: ST-004 (cellular therapy labelling) was not at hand.

Every label carries the chain of identity identifier. Caption strings come from one mapping
(`DEFAULT_CAPTIONS`, in the catalogs like every message): `label_captions(locale)` gives them in
Russian or English. Only captions are translated; identifiers, bar code data, product codes and
the coded dates stay exactly as ISBT 128 fixes them (Latin characters, ISO 8601 dates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from cartflow.i18n import SOURCE_LOCALE, Message, _, current_locale
from cartflow.identity.errors import MalformedIdentifier
from cartflow.identity.isbt128 import ChainOfIdentityId, Din, ProductCode
from cartflow.identity.scan import expiry_barcode_data


class LabelKind(StrEnum):
    COLLECTION_BAG = "collection-bag"
    PRODUCT_BAG = "product-bag"
    CASSETTE = "cassette"
    SHIPPER = "shipper"


PAGE_SIZES_MM: Final[Mapping[LabelKind, tuple[float, float]]] = MappingProxyType(
    {
        LabelKind.COLLECTION_BAG: (100, 100),
        LabelKind.PRODUCT_BAG: (100, 100),
        LabelKind.CASSETTE: (100, 50),
        LabelKind.SHIPPER: (150, 100),
    }
)

LAYOUTS: Final[Mapping[LabelKind, tuple[tuple[tuple[str, float], ...], ...]]] = MappingProxyType(
    {
        LabelKind.COLLECTION_BAG: (
            (("din", 0.5), ("product", 0.5)),
            (("coi", 0.62), ("datamatrix", 0.38)),
            (("patient", 0.5), ("storage", 0.5)),
            (("expiry", 0.5),),
        ),
        LabelKind.PRODUCT_BAG: (
            (("din", 0.5), ("product", 0.5)),
            (("coi", 0.62), ("datamatrix", 0.38)),
            (("expiry", 0.5), ("patient", 0.5)),
            (("storage", 1.0),),
        ),
        LabelKind.CASSETTE: (
            (("coi", 0.52), ("din", 0.48)),
            (("patient", 0.52), ("summary", 0.48)),
        ),
        LabelKind.SHIPPER: (
            (("coi", 0.45), ("din", 0.35), ("datamatrix", 0.2)),
            (("patient", 0.45), ("product", 0.55)),
            (("storage", 0.45), ("expiry", 0.55)),
        ),
    }
)
"""Rows of (block, share of the printable width) per kind; the PDF and ZPL renderers follow it."""

DEFAULT_CAPTIONS: Final[Mapping[str, Message]] = MappingProxyType(
    {
        "title.collection-bag": _("AUTOLOGOUS APHERESIS COLLECTION FOR FURTHER MANUFACTURE"),
        "title.product-bag": _("CAR-T CELL PRODUCT - FOR AUTOLOGOUS USE ONLY"),
        "title.cassette": _("CAR-T CELL PRODUCT - FOR AUTOLOGOUS USE ONLY"),
        "title.shipper": _("HUMAN CELLS FOR INFUSION - KEEP UPRIGHT - HANDLE WITH CARE"),
        "coi": _("Chain of Identity"),
        "din": _("Donation Identification Number"),
        "product_code": _("Product code"),
        "product": _("Product"),
        "patient": _("Patient"),
        "date_of_birth": _("Date of birth"),
        "expiry": _("Expires"),
        "storage": _("Store at"),
        "facility": _("Issued by"),
        "verify": _("Verify patient identity and Chain of Identity before use"),
    }
)


def label_captions(locale: str = SOURCE_LOCALE) -> Mapping[str, str]:
    """The captions in `locale` (ru or en); the label's data is the same in every language."""
    return MappingProxyType({key: text.render(locale) for key, text in DEFAULT_CAPTIONS.items()})


@dataclass(frozen=True)
class LabelContent:
    """Everything printed on one label. `captions` are the DEFAULT_CAPTIONS in the label's
    language (`label_captions`; by default the reader's, so a label printed from a page or a
    request follows its language); a key it lacks prints in English."""

    kind: LabelKind
    coi: ChainOfIdentityId
    product_name: str
    patient_name: str
    din: Din | None = None
    din_flags: str = "00"
    product_code: ProductCode | None = None
    date_of_birth: date | None = None
    expires_at: datetime | None = None
    label_timezone: tzinfo = UTC
    storage_temperature: str = ""
    facility: str = ""
    captions: Mapping[str, str] = field(default_factory=lambda: label_captions(current_locale()))

    def __post_init__(self) -> None:
        if self.din is not None:
            self.din.barcode_data(self.din_flags)
        if self.expires_at is not None and self.expires_at.utcoffset() is None:
            raise MalformedIdentifier(_("expires_at must be timezone-aware"), field="expires_at")

    def caption(self, key: str) -> str:
        return self.captions.get(key) or DEFAULT_CAPTIONS[key].render(SOURCE_LOCALE)


def expiry_text(content: LabelContent) -> tuple[str, str]:
    """`2025-03-03 23:59 MSK` and `(2025-03-03 20:59 UTC)` (ST-001 §7.4.4.2)."""
    if content.expires_at is None:
        return "", ""
    local = content.expires_at.astimezone(content.label_timezone)
    utc = content.expires_at.astimezone(UTC)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}", f"({utc:%Y-%m-%d %H:%M} UTC)"


def datamatrix_payload(content: LabelContent) -> str:
    """The compound message (Data Structure 023, sequence 000) carried by the 2-D symbol."""
    parts = []
    if content.din is not None:
        parts.append(content.din.barcode_data(content.din_flags))
    if content.product_code is not None:
        parts.append(content.product_code.barcode_data())
    if content.expires_at is not None:
        parts.append(expiry_barcode_data(content.expires_at, content.label_timezone))
    parts.append(content.coi.barcode_data())
    return f"=+{len(parts):02d}000" + "".join(parts)
