"""Labels in Russian and English (issue #12, item 3): only captions are translated; identifiers,
bar codes, product codes and coded dates are exactly the same; a Cyrillic patient name prints.

The PDF is read back as a viewer reads it (`tests.identity.pdftext`), so these fail if a name or a
caption is drawn in a font without Cyrillic glyphs or lost on the way to the file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.identity.isbt128 import ChainOfIdentityId, Din, ProductCode
from cartflow.identity.labels import (
    DEFAULT_CAPTIONS,
    LabelContent,
    LabelKind,
    datamatrix_payload,
    label_captions,
)
from cartflow.identity.labels_pdf import render_label_pdf
from cartflow.identity.labels_zpl import render_label_zpl
from tests.factories import auth
from tests.logistics.factories import K, make_world, register
from tests.pdftext import pdf_text

NAME = "Соколова Евгения Ильинична"  # synthetic
COI = ChainOfIdentityId.parse("CHA999925000042")
DIN = Din.parse("A9999 25 000420")


def _label(locale: str, kind: LabelKind = LabelKind.PRODUCT_BAG) -> LabelContent:
    return LabelContent(
        kind=kind,
        coi=COI,
        din=DIN,
        product_code=ProductCode("S1416000"),
        product_name="Synthetic anti-CD19 CAR-T",
        patient_name=NAME,
        date_of_birth=date(1980, 5, 6),
        expires_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        label_timezone=ZoneInfo("Europe/Moscow"),
        storage_temperature="≤ −150 °C",
        facility="A9999 demo site",
        captions=label_captions(locale),
    )


@pytest.mark.parametrize("kind", list(LabelKind))
def test_the_pdf_label_prints_the_cyrillic_name_with_captions_in_each_language(
    kind: LabelKind,
) -> None:
    russian = pdf_text(render_label_pdf(_label("ru", kind)))
    english = pdf_text(render_label_pdf(_label("en", kind)))
    # A long name wraps onto a second line of its block.
    assert NAME in " ".join(russian) and NAME in " ".join(english)
    assert "Пациент" in russian and "Patient" not in russian
    assert "Patient" in english and "Пациент" not in english
    # The identifiers' eye-readable text is the same, character for character, in both.
    for identifier in (COI.eye_readable, DIN.eye_readable):
        assert identifier in russian and identifier in english
    assert DIN.check_character in russian and DIN.check_character in english


def test_the_product_label_names_expiry_and_storage_in_russian() -> None:
    text = pdf_text(render_label_pdf(_label("ru")))
    assert "Годен до" in text and "Хранить при" in text
    assert "Код продукта" in text and "S1416000" in text
    # Dates stay ISO 8601 with the zone, as ST-001 §7.4.4.2 prints them, in every language.
    assert "2026-12-01 12:00 MSK" in text
    assert any(line.startswith("ПРОДУКТ CAR-T-КЛЕТОК") for line in text)


def test_bar_code_data_does_not_depend_on_the_language() -> None:
    assert datamatrix_payload(_label("ru")) == datamatrix_payload(_label("en"))
    russian, english = render_label_zpl(_label("ru")), render_label_zpl(_label("en"))
    bar_codes = [line for line in russian.splitlines() if "^BC" in line or "^BX" in line]
    assert bar_codes and bar_codes == [
        line for line in english.splitlines() if "^BC" in line or "^BX" in line
    ]
    assert "Пациент" in russian and "Patient" in english


def test_every_caption_has_its_russian_text() -> None:
    russian, english = label_captions("ru"), label_captions("en")
    assert set(russian) == set(DEFAULT_CAPTIONS)
    untranslated = [key for key in russian if russian[key] == english[key]]
    assert not untranslated


def test_the_api_label_follows_accept_language_or_the_lang_parameter(
    client: TestClient, session: Session, unique: str
) -> None:
    world = make_world(session, unique)
    world.episode.patient.family_name = "Синтетова"
    world.episode.patient.given_name = "Анна"
    session.flush()
    [bag] = register(session, world.people.nurse, world.episode, K.COLLECTION_BAG)
    url = f"/api/v1/custody/containers/{bag.id}/label.pdf"
    headers = auth(session, world.people.nurse.user)
    russian = client.get(url, headers={**headers, "Accept-Language": "ru-RU,ru;q=0.9"})
    english = client.get(url, headers={**headers, "Accept-Language": "ru"}, params={"lang": "en"})
    assert russian.status_code == english.status_code == 200
    ru_text, en_text = pdf_text(russian.content), pdf_text(english.content)
    assert "Синтетова Анна" in " ".join(ru_text) and "Синтетова Анна" in " ".join(en_text)
    assert "Пациент" in ru_text and "Patient" in en_text
    storage = {"2–8 °C, не замораживать", "≤ −150 °C (паровая фаза жидкого азота)"}
    assert storage & set(ru_text)
    din = Din.parse(bag.din).eye_readable
    assert din in ru_text and din in en_text
