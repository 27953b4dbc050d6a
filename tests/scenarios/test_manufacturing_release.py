"""Manufacturing and QC release, told as a QA person would walk through them, through the HTTP API.

The product is specified as ARI-0001 was (Castella et al. 2018, Table 2): viability >= 70 %,
CAR-positive >= 20 %, CD3-positive >= 70 %, vector copies <= 10 per cell, endotoxin <= 0.5 EU/mL,
a dose of at least 0.5 x 10^6 CAR-positive cells per kg, sterile, free of mycoplasma and of
replication-competent lentivirus, and of conforming appearance. The "good" results are those the
same table reports for validation lot ARI0001/01.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.audit.service import verify_audit_trail
from cartflow.db.base import utcnow
from cartflow.models import AuditEvent, ElectronicSignature, Role, RoleAssignment
from tests.factories import PASSWORD, auth, make_network, make_user
from tests.manufacturing.factories import (
    ARI_0001_LOT_01,
    PROCESS,
    Staff,
    collected_episode,
    make_specification,
    make_staff,
)

API = "/api/v1"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Site:
    """The people of one manufacturing site and its treating center, logged in."""

    def __init__(self, client: TestClient, session: Session, staff: Staff) -> None:
        self.client = client
        self.planner = auth(session, staff.planner.user)
        self.analyst = auth(session, staff.analyst.user)
        self.second_analyst = auth(session, staff.second_analyst.user)
        self.qp = auth(session, staff.qp.user)
        self.second_qp = auth(session, staff.second_qp.user)
        self.clinician = auth(session, staff.clinician.user)

    def post(self, who: dict[str, str], path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(API + path, json=body or {}, headers=who)

    def get(self, who: dict[str, str], path: str) -> Any:
        return self.client.get(API + path, headers=who)


def _manufacture_and_test(
    site: Site, episode_id: str, received_at: dt.datetime, results: dict[str, float | str]
) -> tuple[str, dict[str, str]]:
    """Receive, make and cryopreserve the batch, enter every result; returns (batch id, result
    ids by test)."""
    batch = _ok(
        site.post(
            site.planner,
            "/batches",
            {"episode_id": episode_id, "device": "DEV-1", "received_at": received_at.isoformat()},
        ),
        201,
    )
    for step, start_day, end_day in PROCESS:
        _ok(
            site.post(
                site.planner,
                f"/batches/{batch['id']}/steps",
                {
                    "step": step.value,
                    "started_at": (received_at + dt.timedelta(days=start_day)).isoformat(),
                    "completed_at": (received_at + dt.timedelta(days=end_day)).isoformat(),
                },
            )
        )
    _ok(site.post(site.planner, f"/batches/{batch['id']}/submit-for-qc"))
    ids = {}
    for test, value in results.items():
        row = _ok(
            site.post(
                site.analyst,
                f"/batches/{batch['id']}/qc-results",
                {"test": test, "value": value},
            ),
            201,
        )
        ids[test] = row["id"]
    return batch["id"], ids


def _setting(
    client: TestClient, session: Session, unique: str, *, with_network: bool = False
) -> Any:
    """A site with its staff, the ARI-0001 specification, and an episode whose cells were
    collected 16 days ago (received six hours later)."""
    net = make_network(session, unique)
    make_specification(session, net)
    staff = make_staff(session, net)
    collected_at = utcnow() - dt.timedelta(days=16)
    episode = collected_episode(session, net, collected_at=collected_at)
    setting = (Site(client, session, staff), episode, collected_at + dt.timedelta(hours=6))
    return (*setting, net) if with_network else setting


def test_happy_path_from_apheresis_receipt_to_release(
    client: TestClient, session: Session, unique: str
) -> None:
    site, episode, received_at = _setting(client, session, unique)

    # The planner receives the patient's cells and starts the batch on the Prodigy DEV-1.
    batch = _ok(
        site.post(
            site.planner,
            "/batches",
            {
                "episode_id": str(episode.id),
                "device": "DEV-1",
                "received_at": received_at.isoformat(),
                "parameters": {"cd3_cells": 2.6e9},
            },
        ),
        201,
    )
    assert batch["state"] == "in_process" and batch["run_number"] == 1
    assert batch["next_step"] == "activation"
    assert batch["steps"][0]["step"] == "apheresis_receipt"
    assert batch["steps"][0]["operators"][0]["printed_name"] == "Pavel Planner"
    assert _ok(site.get(site.clinician, f"/episodes/{episode.id}"))["state"] == "in_manufacturing"

    # Each step is recorded in order, twelve days from activation to cryopreservation.
    for step, start_day, end_day in PROCESS:
        batch = _ok(
            site.post(
                site.planner,
                f"/batches/{batch['id']}/steps",
                {
                    "step": step.value,
                    "started_at": (received_at + dt.timedelta(days=start_day)).isoformat(),
                    "completed_at": (received_at + dt.timedelta(days=end_day)).isoformat(),
                },
            )
        )
    assert [s["step"] for s in batch["steps"]] == [
        "apheresis_receipt",
        "activation",
        "transduction",
        "expansion",
        "harvest",
        "formulation",
        "cryopreservation",
    ]
    assert batch["cryopreserved_at"] is not None and batch["next_step"] is None

    # The frozen product goes to QC, tested against the product's specification version 1.
    batch = _ok(site.post(site.planner, f"/batches/{batch['id']}/submit-for-qc"))
    assert batch["state"] == "in_qc" and batch["specification_version"] == 1
    assert _ok(site.get(site.clinician, f"/episodes/{episode.id}"))["state"] == "qc"
    worklist = _ok(site.get(site.analyst, "/worklists/qc"))
    mine = next(i for i in worklist if i["batch_id"] == batch["id"])
    assert sorted(mine["awaiting_entry"]) == sorted(ARI_0001_LOT_01)

    # The analyst enters lot ARI0001/01's results: every one within specification.
    for test, value in ARI_0001_LOT_01.items():
        row = _ok(
            site.post(
                site.analyst, f"/batches/{batch['id']}/qc-results", {"test": test, "value": value}
            ),
            201,
        )
        assert row["within_spec"] and row["failed_limit"] is None, test
    # The QP cannot release yet: nothing is verified.
    refused = site.post(site.qp, f"/batches/{batch['id']}/release", {"password": PASSWORD})
    assert refused.status_code == 409 and refused.json()["code"] == "REL-004"

    # A second analyst verifies each result.
    worklist = _ok(site.get(site.second_analyst, "/worklists/qc"))
    pending = next(i for i in worklist if i["batch_id"] == batch["id"])["awaiting_verification"]
    assert len(pending) == len(ARI_0001_LOT_01) and not any(p["entered_by_you"] for p in pending)
    for item in pending:
        verified = _ok(site.post(site.second_analyst, f"/qc-results/{item['result_id']}/verify"))
        assert verified["verified_by"]["printed_name"] == "Boris Verifier"
    qp_list = _ok(site.get(site.qp, "/worklists/qualified-person"))
    ready = next(i for i in qp_list if i["batch_id"] == batch["id"])
    assert ready["ready"] and ready["you_may_sign"] and ready["blocking"] == []

    # The qualified person releases with their signature: the episode is released.
    batch = _ok(site.post(site.qp, f"/batches/{batch['id']}/release", {"password": PASSWORD}))
    assert batch["state"] == "released"
    [decision] = batch["dispositions"]
    assert decision["decision"] == "release" and not decision["exceptional"]
    [signature] = decision["signatures"]
    assert signature["meaning"] == "Released for infusion"
    assert signature["signer"]["printed_name"] == "Queenie Qualified" and signature["valid"]
    assert _ok(site.get(site.clinician, f"/episodes/{episode.id}"))["state"] == "released"

    # The certificate of analysis is a PDF; the audit trail holds together.
    pdf = site.get(site.qp, f"/batches/{batch['id']}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and batch["din"].encode() in pdf.content
    assert verify_audit_trail(session).ok


def test_out_of_specification_viability_ends_in_exceptional_release_with_two_signatures(
    client: TestClient, session: Session, unique: str
) -> None:
    site, episode, received_at = _setting(client, session, unique)
    # Viability 65 %, below the 70 % limit; everything else as lot ARI0001/01.
    results = ARI_0001_LOT_01 | {"viability_percent": 65.0}
    batch_id, ids = _manufacture_and_test(site, str(episode.id), received_at, results)
    viability = _ok(site.get(site.analyst, f"/batches/{batch_id}"))["results"]
    flagged = next(r for r in viability if r["test"] == "viability_percent")
    assert not flagged["within_spec"] and flagged["failed_limit"] == "viability_percent ≥ 70 %"
    for result_id in ids.values():
        _ok(site.post(site.second_analyst, f"/qc-results/{result_id}/verify"))

    # Without the physician's written request the QP cannot release an OOS product.
    refused = site.post(site.qp, f"/batches/{batch_id}/release", {"password": PASSWORD})
    assert refused.status_code == 409 and refused.json()["code"] == "REL-005"
    qp_item = next(
        i
        for i in _ok(site.get(site.qp, "/worklists/qualified-person"))
        if i["batch_id"] == batch_id
    )
    assert qp_item["out_of_specification"] == ["viability_percent"]

    # The treating physician asks in writing, and signs the request.
    justification = (
        "Relapsed B-ALL with no other option; a product at 65 % viability is expected to work "
        "as well as one in specification (CIBMTR, Pasquini 2020)."
    )
    batch = _ok(
        site.post(
            site.clinician,
            f"/batches/{batch_id}/exceptional-release-request",
            {"justification": justification, "password": PASSWORD},
        ),
        201,
    )
    request = batch["exceptional_request"]
    assert request["physician"]["printed_name"] == "Dr Anna Petrova"
    assert request["justification"] == justification and request["signature"]["valid"]

    # The first QP signs: the release waits for a second signature; the episode is still in QC.
    batch = _ok(site.post(site.qp, f"/batches/{batch_id}/release", {"password": PASSWORD}))
    assert batch["state"] == "awaiting_second_signature"
    assert _ok(site.get(site.clinician, f"/episodes/{episode.id}"))["state"] == "qc"
    # The same QP cannot add the second signature.
    same = site.post(
        site.qp, f"/batches/{batch_id}/exceptional-release/approve", {"password": PASSWORD}
    )
    assert same.status_code == 409 and same.json()["code"] == "REL-008"

    # A second QP signs: the exceptional release takes effect.
    batch = _ok(
        site.post(
            site.second_qp,
            f"/batches/{batch_id}/exceptional-release/approve",
            {"password": PASSWORD},
        )
    )
    assert batch["state"] == "released"
    [decision] = batch["dispositions"]
    assert decision["exceptional"] and decision["status"] == "effective"
    assert [
        (s["meaning"], s["signer"]["printed_name"], s["valid"]) for s in decision["signatures"]
    ] == [
        ("Released for infusion", "Queenie Qualified", True),
        ("Exceptional release approved", "Quentin Second", True),
    ]
    assert _ok(site.get(site.clinician, f"/episodes/{episode.id}"))["state"] == "released"
    assert site.get(site.second_qp, f"/batches/{batch_id}/certificate.pdf").status_code == 200


def test_an_analyst_cannot_verify_their_own_result(
    client: TestClient, session: Session, unique: str
) -> None:
    site, episode, received_at = _setting(client, session, unique)
    batch_id, ids = _manufacture_and_test(
        site, str(episode.id), received_at, {"viability_percent": 91.0}
    )
    own = site.post(site.analyst, f"/qc-results/{ids['viability_percent']}/verify")
    assert own.status_code == 409 and own.json()["code"] == "QC-004"
    assert "four-eyes" in own.json()["message"]
    # The worklist tells the analyst the result waits for a colleague.
    item = next(
        i for i in _ok(site.get(site.analyst, "/worklists/qc")) if i["batch_id"] == batch_id
    )
    assert item["awaiting_verification"][0]["entered_by_you"] is True
    record = _ok(site.get(site.analyst, f"/batches/{batch_id}"))
    assert record["results"][0]["verified_by"] is None


def test_a_verifier_of_the_batch_cannot_release_it(
    client: TestClient, session: Session, unique: str
) -> None:
    site, episode, received_at, net = _setting(client, session, unique, with_network=True)
    batch_id, ids = _manufacture_and_test(site, str(episode.id), received_at, ARI_0001_LOT_01)
    # At a small site one person is both a QC analyst and a qualified person.
    both = make_user(session, Role.QC_ANALYST, site=net.site)
    both.roles.append(RoleAssignment(role=Role.QUALIFIED_PERSON, site_id=net.site.id))
    session.flush()
    dual = auth(session, both)
    for result_id in ids.values():
        _ok(site.post(dual, f"/qc-results/{result_id}/verify"))

    refused = site.post(dual, f"/batches/{batch_id}/release", {"password": PASSWORD})
    assert refused.status_code == 409 and refused.json()["code"] == "REL-002"
    item = next(
        i for i in _ok(site.get(dual, "/worklists/qualified-person")) if i["batch_id"] == batch_id
    )
    assert item["ready"] and not item["you_may_sign"]
    # An independent qualified person can.
    released = _ok(site.post(site.qp, f"/batches/{batch_id}/release", {"password": PASSWORD}))
    assert released["state"] == "released"


def test_a_wrong_password_at_signing_writes_nothing(
    client: TestClient, session: Session, unique: str
) -> None:
    site, episode, received_at = _setting(client, session, unique)
    batch_id, ids = _manufacture_and_test(site, str(episode.id), received_at, ARI_0001_LOT_01)
    for result_id in ids.values():
        _ok(site.post(site.second_analyst, f"/qc-results/{result_id}/verify"))

    def counts() -> tuple[int, int]:
        return (
            session.execute(select(func.count(ElectronicSignature.id))).scalar_one(),
            session.execute(select(func.count(AuditEvent.id))).scalar_one(),
        )

    before = counts()
    refused = site.post(site.qp, f"/batches/{batch_id}/release", {"password": "not-my-password"})
    assert refused.status_code == 403 and refused.json()["code"] == "SIGNATURE-REFUSED"
    assert counts() == before
    record = _ok(site.get(site.qp, f"/batches/{batch_id}"))
    assert record["state"] == "in_qc" and record["dispositions"] == []
    assert _ok(site.get(site.clinician, f"/episodes/{episode.id}"))["state"] == "qc"
