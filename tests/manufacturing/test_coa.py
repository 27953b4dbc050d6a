"""The certificate of analysis: every result with its limit, conformity and verifier, and every
signature's manifestation (21 CFR 11.50), printed with an embedded font that has Cyrillic."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from reportlab.pdfbase import pdfmetrics
from sqlalchemy.orm import Session

from cartflow.db.base import utcnow
from cartflow.manufacturing import disposition
from cartflow.manufacturing.coa import fonts, result_rows, signature_rows, status_text
from cartflow.manufacturing.errors import ManufacturingRefused
from cartflow.manufacturing.schemas import ExceptionalReleaseRequestIn, Sign
from cartflow.manufacturing.views import batch_out, certificate
from cartflow.models.manufacturing import Batch
from tests.factories import PASSWORD, make_network
from tests.manufacturing.factories import (
    ARI_0001_LOT_01,
    Staff,
    collected_episode,
    enter_results,
    make_specification,
    make_staff,
    manufacture,
    start_batch,
    verify_all,
)


def _exceptionally_released(session: Session, unique: str) -> tuple[Batch, Staff]:
    net = make_network(session, unique)
    make_specification(session, net)
    staff = make_staff(session, net)
    staff.analyst.user.full_name = "Алла Аналитикова"
    staff.second_analyst.user.full_name = "Борис Проверяев"
    received = utcnow() - dt.timedelta(days=16)
    episode = collected_episode(session, net, collected_at=received - dt.timedelta(hours=6))
    batch = manufacture(session, staff, episode, received_at=received)
    values = ARI_0001_LOT_01 | {"viability_percent": 65.0}
    verify_all(session, staff.second_analyst, enter_results(session, staff.analyst, batch, values))
    disposition.request_exceptional_release(
        session,
        actor=staff.clinician,
        batch_id=batch.id,
        data=ExceptionalReleaseRequestIn(
            justification="No alternative therapy; benefit outweighs the risk.", password=PASSWORD
        ),
    )
    disposition.release(session, actor=staff.qp, batch_id=batch.id, data=Sign(password=PASSWORD))
    disposition.approve_exceptional_release(
        session, actor=staff.second_qp, batch_id=batch.id, data=Sign(password=PASSWORD)
    )
    return batch, staff


def test_the_certificate_shows_results_limits_verifiers_and_signatures(
    session: Session, unique: str
) -> None:
    batch, _staff = _exceptionally_released(session, unique)
    record = batch_out(session, batch)
    rows = {row[0]: row for row in result_rows(record)}
    assert len(rows) == len(ARI_0001_LOT_01)
    viability = rows["Viability"]
    assert viability[1:4] == ["≥ 70 %", "65 %", "NO (fails viability_percent ≥ 70 %)"]
    assert viability[4].startswith("Алла Аналитикова, ")
    assert viability[5].startswith("Борис Проверяев, ")
    assert rows["Sterility"][1:4] == ["no growth", "no growth", "yes"]
    assert [(row[0], row[1], row[3]) for row in signature_rows(record)] == [
        ("Exceptional release requested by the treating physician", "Dr Anna Petrova", "verifies"),
        ("Released for infusion", "Queenie Qualified", "verifies"),
        ("Exceptional release approved", "Quentin Second", "verifies"),
    ]
    assert status_text(record) == "RELEASED"

    pdf = certificate(session, actor=_staff.qp, batch_id=batch.id, now=utcnow())
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert re.search(rb"/FontName /[A-Z]+\+CoaDejaVuSans", pdf) or b"DejaVuSans" in pdf
    assert batch.din.encode() in pdf  # in the document title


def test_the_embedded_font_prints_cyrillic() -> None:
    chosen = fonts()
    assert chosen.cyrillic
    face = pdfmetrics.getFont(chosen.regular).face
    assert all(ord(c) in face.charToGlyph for c in "Аналитик Проверяев ЁЖЩ")


def test_a_batch_in_process_has_no_certificate(session: Session, unique: str) -> None:
    net = make_network(session, unique)
    make_specification(session, net)
    staff = make_staff(session, net)
    received = utcnow() - dt.timedelta(days=2)
    episode = collected_episode(session, net, collected_at=received - dt.timedelta(hours=6))
    batch = start_batch(session, staff, episode, received_at=received)
    with pytest.raises(ManufacturingRefused, match="COA-001"):
        certificate(session, actor=staff.qp, batch_id=batch.id, now=utcnow())
    assert status_text(batch_out(session, batch)) == "DRAFT: not yet dispositioned"
