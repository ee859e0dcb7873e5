"""Fixtures of the leaderboard tests."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gymarena.leaderboard.app import create_app
from gymarena.results import ResultsStore


@pytest.fixture
def submission_server(db_url):
    """(client, token, db url) of a server whose one token holder, alice, may submit 50 a day."""
    with ResultsStore(db_url) as store:
        token = store.submissions.create_token("alice", daily_quota=50)
    with TestClient(create_app(db_url, reps=200)) as client:
        yield client, token, db_url
