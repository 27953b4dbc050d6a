"""Reference data: admins create sites, centers and products; everyone logged in reads them; a
specification is versioned, never edited; bad input is refused whole."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.models import AuditEvent, Role, TreatmentCenter
from tests.factories import auth, make_user

SITE = {
    "code": "GMP-T",
    "name": "Test GMP site",
    "city": "Moscow",
    "facility_identification_number": "A9990",
    "qc_release_capacity_per_day": 3,
    "devices": [
        {"code": "P-01", "kind": "CliniMACS Prodigy"},
        {"code": "P-02", "kind": "CliniMACS Prodigy"},
    ],
}
PRODUCT = {
    "code": "TESTCEL",
    "name": "Testcel",
    "inn": "testagenleucel",
    "kind": "academic",
    "holder": "Test",
    "target_antigen": "CD19",
    "isbt_product_code": "S1400000",
    "manufacturing_site": "GMP-T",
    "manufacturing_days": 12,
    "qc_days": 7,
    "shelf_life_days": 180,
    "storage_temperature_max_c": -150,
    "post_thaw_window_minutes": 60,
    "indications": [{"diagnosis": "B-ALL", "min_age_years": 18}],
    "specification": {"criteria": {"viability_percent": {"min": 70}}, "source": "test"},
}


def test_admin_builds_the_network_and_everyone_reads_it(
    client: TestClient, session: Session
) -> None:
    admin = auth(session, make_user(session, Role.ADMIN))
    site = client.post("/api/v1/sites", json=SITE, headers=admin)
    assert site.status_code == 201, site.text
    assert [d["code"] for d in site.json()["devices"]] == ["P-01", "P-02"]
    center = client.post(
        "/api/v1/centers",
        json={
            "code": "CTR-T",
            "name": "Test center",
            "city": "Moscow",
            "population": "both",
            "apheresis_chairs_per_day": 2,
            "infusion_beds_per_day": 4,
            "routes": [{"site": "GMP-T", "transit_days": 1}],
        },
        headers=admin,
    )
    assert center.status_code == 201, center.text
    assert center.json()["routes"][0]["site_code"] == "GMP-T"
    product = client.post("/api/v1/products", json=PRODUCT, headers=admin)
    assert product.status_code == 201, product.text
    assert product.json()["current_specification"]["version"] == 1

    reader = auth(session, make_user(session, Role.COURIER))
    assert client.get("/api/v1/products/TESTCEL", headers=reader).json()["inn"] == "testagenleucel"
    assert "CTR-T" in {c["code"] for c in client.get("/api/v1/centers", headers=reader).json()}
    assert client.get("/api/v1/sites/GMP-T", headers=reader).status_code == 200
    assert client.get("/api/v1/sites/NOPE", headers=reader).status_code == 404

    v2 = client.post(
        "/api/v1/products/TESTCEL/specifications",
        json={"criteria": {"viability_percent": {"min": 80}}, "source": "revised"},
        headers=admin,
    )
    assert v2.status_code == 201 and v2.json()["version"] == 2
    bad_spec = client.post(
        "/api/v1/products/TESTCEL/specifications",
        json={"criteria": {"viability_percentage": {"min": 70}}},
        headers=admin,
    )
    assert bad_spec.status_code == 422
    assert bad_spec.json()["field"] == "criteria.viability_percentage"
    current = client.get("/api/v1/products/TESTCEL", headers=reader).json()["current_specification"]
    assert current["version"] == 2 and current["criteria"]["viability_percent"]["min"] == 80
    actions = session.execute(
        select(AuditEvent.record_type, AuditEvent.action).where(
            AuditEvent.actor_username.like("admin-%")
        )
    ).all()
    assert ("manufacturing_site", "create") in actions and (
        "release_specification",
        "create",
    ) in actions


def test_wrong_role_gets_403(client: TestClient, session: Session) -> None:
    coordinator = auth(session, make_user(session, Role.COURIER))
    assert client.post("/api/v1/sites", json=SITE, headers=coordinator).status_code == 403
    assert client.post("/api/v1/products", json=PRODUCT, headers=coordinator).status_code == 403


def test_bad_input_names_the_field_and_writes_nothing(client: TestClient, session: Session) -> None:
    admin = auth(session, make_user(session, Role.ADMIN))
    bad_fin = client.post(
        "/api/v1/sites", json=SITE | {"facility_identification_number": "x"}, headers=admin
    )
    assert (
        bad_fin.status_code == 422 and bad_fin.json()["field"] == "facility_identification_number"
    )
    before = session.execute(select(func.count(TreatmentCenter.id))).scalar_one()
    unknown_route = client.post(
        "/api/v1/centers",
        json={
            "code": "CTR-X",
            "name": "X",
            "city": "Moscow",
            "population": "adult",
            "apheresis_chairs_per_day": 1,
            "infusion_beds_per_day": 1,
            "routes": [{"site": "NO-SUCH-SITE", "transit_days": 1}],
        },
        headers=admin,
    )
    assert unknown_route.status_code == 422 and unknown_route.json()["field"] == "routes.site"
    assert session.execute(select(func.count(TreatmentCenter.id))).scalar_one() == before
    bad_product = client.post(
        "/api/v1/products", json=PRODUCT | {"isbt_product_code": "X123"}, headers=admin
    )
    assert bad_product.status_code == 422 and bad_product.json()["field"] == "isbt_product_code"
