"""A value the database cannot store is a clear refusal on the page, never a server error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cartflow.models import Patient, Role
from tests.conftest import BACKEND
from tests.factories import make_network, make_user
from tests.web.helpers import login, post_form


@pytest.mark.skipif(BACKEND != "postgresql", reason="SQLite stores NUL characters")
def test_a_nul_character_in_a_form_is_refused_and_nothing_is_written(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    token = login(client, make_user(session, Role.COORDINATOR, center=net.center_a).username)
    before = session.execute(select(func.count(Patient.id))).scalar_one()
    response = post_form(
        client,
        "/coordinator/patients",
        token,
        {
            "mrn": f"NUL-{unique}",
            "family_name": "Pet\x00rova",
            "given_name": "Anna",
            "date_of_birth": "2014-03-02",
            "sex": "female",
            "weight_kg": "38.5",
            "height_cm": "145",
            "diagnosis": "B-ALL",
            "disease_status": "relapsed",
            "prior_lines_of_therapy": "2",
        },
    )
    assert response.status_code == 422 and "cannot be stored" in response.text
    assert session.execute(select(func.count(Patient.id))).scalar_one() == before
