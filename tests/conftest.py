"""Shared fixtures: results databases (SQLite always, PostgreSQL when a server is given)."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import gymarena  # noqa: F401  registers the catalog
from gymarena.results import ResultsStore

AGENTS_DIR = Path(__file__).parent / "agents"
ENVS_DIR = Path(__file__).parent / "envs"
# Test environments are named by entry point ("crashing:AbortsInOneEpisode"); spawned
# worker processes inherit this path.
if str(ENVS_DIR) not in sys.path:
    sys.path.insert(0, str(ENVS_DIR))
POSTGRES_URL = os.environ.get("GYMARENA_TEST_POSTGRES_URL")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'results.sqlite'}"


def _fresh_postgres_database() -> str:
    """A new, empty database on the test server, so tests never see each other's rows."""
    name = f"gymarena_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store-touching test runs on SQLite and, when configured, PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'results.sqlite'}"
    if not POSTGRES_URL:
        pytest.skip("set GYMARENA_TEST_POSTGRES_URL to run against PostgreSQL (.ci/run does)")
    return _fresh_postgres_database()


@pytest.fixture
def store(db_url: str):
    with ResultsStore(db_url) as opened:
        yield opened


def leave_run(store: ResultsStore, run_id: int, status: str) -> None:
    """Leave a run in ``status`` as a killed or crashed process would (no recorder ends it)."""
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE runs SET status = :status WHERE id = :id"), {"status": status, "id": run_id})


def agent_ref(name: str) -> str:
    """A file:attr reference to one of the test agents in tests/agents/agents.py."""
    return f"{AGENTS_DIR / 'agents.py'}:{name}"


def installed_runtime(family: str):
    """The family's isolated runtime (scripts/test installs it); skipped without one, except
    in CI, where a missing runtime is a failure."""
    from gymarena.runtimes.registry import load_runtime

    runtime = load_runtime(family)
    if runtime is None:
        message = f"the {family} runtime is not installed: run `gymarena install {family}` (scripts/test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return runtime


@pytest.fixture
def submission_server(db_url):
    """(client, token, db url) of a leaderboard app whose one token holder, alice, may submit 50 a day."""
    from fastapi.testclient import TestClient

    from gymarena.leaderboard.app import create_app
    from gymarena.results import ResultsStore

    with ResultsStore(db_url) as store:
        token = store.submissions.create_token("alice", daily_quota=50)
    with TestClient(create_app(db_url, reps=200)) as client:
        yield client, token, db_url
