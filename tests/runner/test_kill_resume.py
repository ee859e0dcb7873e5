"""A real `gymarena eval` killed with SIGKILL midway, then resumed, ends with exactly the
records of a clean run: none duplicated, none lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import agent_ref

from gymarena.results import ResultsStore

EVAL = ["eval", "--task", "classic/CartPole-v1", "--task", "minigrid/Empty-8x8-v0", "--seeds", "0-2", "--episodes", "8"]
TOTAL = 2 * 3 * 8


def _command(db: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "gymarena", *EVAL, "--agent", agent_ref("SlowRandom"), "--db", db, *extra]


def _stored(db: str) -> int:
    with ResultsStore(db) as store:
        runs = store.list_runs()
        return runs[0].episode_count if runs else 0


def _records(db: str) -> list[dict]:
    with ResultsStore(db) as store:
        (run,) = store.list_runs()
        assert run.status == "complete"
        return [r.outcome_fields() for r in store.episodes(run.id)]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigkill_then_resume_matches_a_clean_run(tmp_path, workers):
    killed_db = f"sqlite:///{tmp_path / 'killed.sqlite'}"
    clean_db = f"sqlite:///{tmp_path / 'clean.sqlite'}"
    process = subprocess.Popen(_command(killed_db, "--workers", workers), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not os.path.exists(tmp_path / "killed.sqlite") or _stored(killed_db) < 10):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the eval and its workers, with no chance to clean up
    process.wait()
    partial = _stored(killed_db)
    assert 10 <= partial < TOTAL, "the run should have been killed midway"

    resumed = subprocess.run(_command(killed_db, "--workers", workers), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed run 1" in resumed.stderr

    clean = subprocess.run(_command(clean_db), capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stderr
    killed_records, clean_records = _records(killed_db), _records(clean_db)
    assert len(killed_records) == TOTAL
    assert killed_records == clean_records
