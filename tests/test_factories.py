"""The episode factory reaches every state it promises (so domain tests can start anywhere)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from cartflow.models import EpisodeState
from tests.factories import make_episode, make_network


@pytest.mark.parametrize(
    "state", [s for s in EpisodeState if s not in (EpisodeState.CLOSED, EpisodeState.WITHDRAWN)]
)
def test_make_episode_reaches(state: EpisodeState, session: Session, unique: str) -> None:
    episode = make_episode(session, make_network(session, unique), state=state)
    assert episode.state is state
