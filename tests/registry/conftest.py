"""The registry tests' app client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cartflow.app import create_app
from cartflow.config import Settings
from cartflow.db.session import get_session


@pytest.fixture
def api(settings: Settings, session: Session) -> Iterator[TestClient]:
    """The real app on the test's session (committed, so the request sees the set-up)."""
    app = create_app(settings)

    def _session() -> Iterator[Session]:
        session.commit()
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise

    app.dependency_overrides[get_session] = _session
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()
