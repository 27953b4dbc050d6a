"""Manufacturing in Russian and English (issue #12): the same refusal code in both languages, the
QC and qualified-person pages in Russian with the site's local time named, the certificate of
analysis with translated captions and unchanged values, and a CLI refusal in Russian."""

from __future__ import annotations

import contextvars
import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cartflow.cli.main import app as cli
from cartflow.db.base import utcnow
from cartflow.i18n import use_locale
from cartflow.manufacturing import disposition
from cartflow.manufacturing.schemas import Sign
from cartflow.manufacturing.views import certificate
from cartflow.models.manufacturing import Batch
from tests.factories import PASSWORD, auth, make_network
from tests.manufacturing.factories import (
    ARI_0001_LOT_01,
    Staff,
    collected_episode,
    enter_results,
    make_specification,
    make_staff,
    manufacture,
    verify_all,
)
from tests.pdftext import pdf_text as pdf_strings
from tests.web.helpers import login

API = "/api/v1"


def pdf_text(pdf: bytes) -> str:
    """All the text the certificate shows, its strings joined by spaces."""
    return " ".join(pdf_strings(pdf))


def _in_qc(session: Session, unique: str) -> tuple[Batch, Staff]:
    net = make_network(session, unique)
    make_specification(session, net)
    staff = make_staff(session, net)
    staff.analyst.user.full_name = "Алла Аналитикова"
    received = utcnow() - dt.timedelta(days=16)
    episode = collected_episode(session, net, collected_at=received - dt.timedelta(hours=6))
    return manufacture(session, staff, episode, received_at=received), staff


def _refusal(client: TestClient, url: str, headers: dict[str, str], language: str) -> dict:  # type: ignore[type-arg]
    response = client.post(url, json={}, headers=headers | {"Accept-Language": language})
    assert response.status_code == 409, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def test_a_qc_refusal_and_a_release_refusal_in_russian_and_english(
    client: TestClient, session: Session, unique: str
) -> None:
    batch, staff = _in_qc(session, unique)
    [result] = enter_results(session, staff.analyst, batch, {"viability_percent": 91.0})
    analyst = auth(session, staff.analyst.user)
    url = f"{API}/qc-results/{result.id}/verify"
    english = _refusal(client, url, analyst, "en")
    russian = _refusal(client, url, analyst, "ru-RU,ru;q=0.9,en;q=0.5")
    assert english["code"] == russian["code"] == "QC-004"
    assert "four-eyes rule" in english["message"]
    assert "принцип «двух пар глаз»" in russian["message"]
    assert "four-eyes" not in russian["message"]

    qp = auth(session, staff.qp.user)
    release = f"{API}/batches/{batch.id}/release"
    body = {"password": PASSWORD}
    en = client.post(release, json=body, headers=qp | {"Accept-Language": "en"})
    ru = client.post(release, json=body, headers=qp | {"Accept-Language": "ru"})
    assert en.status_code == ru.status_code == 409
    assert en.json()["code"] == ru.json()["code"] == "REL-003"
    assert en.json()["message"].startswith("REL-003: required results missing: ")
    assert ru.json()["message"].startswith("REL-003: нет обязательных результатов: ")
    # Test names are identifiers: the same in both languages.
    assert "sterility" in en.json()["message"] and "sterility" in ru.json()["message"]

    # A batch state inside a message reads as its label in the reader's language.
    planner = auth(session, staff.planner.user)
    stop = f"{API}/batches/{batch.id}/terminate"
    en = client.post(stop, json={"reason": "x"}, headers=planner | {"Accept-Language": "en"})
    ru = client.post(stop, json={"reason": "x"}, headers=planner | {"Accept-Language": "ru"})
    assert en.json()["code"] == ru.json()["code"] == "TERM-001"
    assert en.json()["message"].endswith("only a batch in process can be terminated; it is in QC")
    assert ru.json()["message"].endswith("её состояние: «на контроле качества»")


def test_the_qp_and_batch_pages_in_russian_name_the_site_time(
    client: TestClient, session: Session, unique: str
) -> None:
    batch, staff = _in_qc(session, unique)
    verify_all(
        session, staff.second_analyst, enter_results(session, staff.analyst, batch, ARI_0001_LOT_01)
    )
    login(client, staff.qp.user.username)
    client.cookies.set("cartflow_locale", "ru")
    worklist = client.get("/qp")
    assert worklist.status_code == 200
    assert "Серии, ожидающие решения о выпуске" in worklist.text
    assert "Batches awaiting disposition" not in worklist.text
    assert batch.din in worklist.text and ">готова<" in worklist.text

    page = client.get(f"/batches/{batch.id}")
    assert page.status_code == 200
    assert "Этапы производства" in page.text and "Результаты контроля качества" in page.text
    assert "на контроле качества" in page.text  # the batch state, as a label
    assert "Жизнеспособность" in page.text and 'data-label="Испытание"' in page.text
    # The steps' times are shown in the site's zone (Moscow), named, in Russian date order.
    assert "МСК" in page.text
    received = next(
        s for s in batch_steps(session, batch.id) if s.step.value == "apheresis_receipt"
    )
    moscow = received.started_at.replace(tzinfo=dt.UTC).astimezone(
        dt.timezone(dt.timedelta(hours=3))
    )
    assert moscow.strftime("%d.%m.%Y %H:%M") + " МСК" in page.text

    # The signing dialog names the meaning in Russian beside the wording that is signed.
    dialog = client.get(f"/batches/{batch.id}/sign/release")
    assert dialog.status_code == 200
    assert "Электронная подпись: Выпуск для инфузии" in dialog.text
    assert "Подписать: Выпущено для инфузии (Released for infusion)" in dialog.text

    client.cookies.set("cartflow_locale", "en")
    english = client.get(f"/batches/{batch.id}")
    assert "Manufacturing steps" in english.text and "MSK" in english.text
    assert moscow.strftime("%Y-%m-%d %H:%M") + " MSK" in english.text


def test_the_certificate_captions_follow_the_reader_and_the_values_do_not(
    client: TestClient, session: Session, unique: str
) -> None:
    batch, staff = _in_qc(session, unique)
    verify_all(
        session, staff.second_analyst, enter_results(session, staff.analyst, batch, ARI_0001_LOT_01)
    )
    disposition.release(session, actor=staff.qp, batch_id=batch.id, data=Sign(password=PASSWORD))
    texts = {}
    for language in ("ru", "en"):
        with use_locale(language):
            texts[language] = pdf_text(
                certificate(session, actor=staff.qp, batch_id=batch.id, now=utcnow())
            )
    ru, en = texts["ru"], texts["en"]
    assert "Сертификат анализа" in ru and "Certificate of analysis" not in ru
    assert "Certificate of analysis" in en and "Сертификат анализа" not in en
    assert "Испытания для выпуска" in ru and "Release testing" in en
    assert "ВЫПУЩЕНА" in ru and "RELEASED" in en
    assert "Жизнеспособность" in ru and "Viability" in en
    # Values and identifiers are the same in both: the DIN, limits, units and a Cyrillic name.
    din = f"{batch.din[:5]} {batch.din[5:7]} {batch.din[7:]}"
    for text in (ru, en):
        assert din in text and "Алла Аналитикова" in text and "≥ 70 %" in text
        assert "\ufffd" not in text

    # Over HTTP the certificate is printed in the language the request asks for.
    qp = auth(session, staff.qp.user)
    url = f"{API}/batches/{batch.id}/certificate.pdf"
    over_http = client.get(url, headers=qp | {"Accept-Language": "ru"})
    assert over_http.status_code == 200
    assert "Сертификат анализа" in pdf_text(over_http.content)


def test_a_cli_refusal_in_russian_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTFLOW_LANG", "ru")
    args = ["manufacturing", "reject", "A999926000001", "--reason", " ", "--user", "qp"]
    args.append("--password-stdin")
    # The CLI sets the language for its context; run it in a copy so this test's stays English.
    result = contextvars.copy_context().run(CliRunner().invoke, cli, args, input=PASSWORD + "\n")
    assert result.exit_code == 2
    assert result.stderr == "reason: для отбраковки нужна причина\n"

    monkeypatch.setenv("CARTFLOW_LANG", "en")
    result = contextvars.copy_context().run(CliRunner().invoke, cli, args, input=PASSWORD + "\n")
    assert result.exit_code == 2 and result.stderr == "reason: a rejection needs a reason\n"


def batch_steps(session: Session, batch_id: object) -> list:  # type: ignore[type-arg]
    from cartflow.manufacturing.records import current_steps

    return current_steps(session, batch_id)  # type: ignore[arg-type]
