"""NetHack (NLE): seeded games, their metrics, and a clock that does not leak into them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from gymarena.results import ResultsStore
from gymarena.runner import EvalRequest, evaluate

# Two moments that NetHack tells apart: an ordinary noon in one time zone, and the small
# hours of a Friday the 13th (night, midnight, a new moon) in another.
MOMENTS = (("2026-11-26 12:00:00", "UTC"), ("2026-11-13 00:30:00", "Pacific/Kiritimati"))


@pytest.fixture
def store(sqlite_url):
    with ResultsStore(sqlite_url) as opened:
        yield opened


def faketime() -> str:
    """Debian's faketime (scripts/test installs it): required in CI, else the test skips."""
    found = shutil.which("faketime")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("faketime is not installed (apt-get install faketime; scripts/test does)")
        pytest.skip("needs faketime (apt-get install faketime)")
    return found


def under_clock(moment: tuple[str, str], *command: str) -> str:
    """Run a command with the wall clock at ``moment`` (date, time zone); its stdout."""
    date, zone = moment
    result = subprocess.run([faketime(), date, *command], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TZ": zone})
    assert result.returncode == 0, result.stderr
    return result.stdout


def played(moment: tuple[str, str], task: str, db: str) -> list[dict]:
    """The outcome of every episode of a short scripted eval run at ``moment``."""
    out = under_clock(moment, sys.executable, "-m", "gymarena", "eval", "--task", task, "--agent", "scripted",
                      "--seeds", "0-1", "--episodes", "2", "--backend", "local", "--json", "--db", db)
    episodes = json.loads(out)["episodes"]
    return [{k: v for k, v in e.items() if k != "wall_seconds"} for e in episodes]


def test_pinned_nethack_games_are_the_same_on_any_date_at_any_hour(tmp_path):
    pinned = [played(m, "nethack/Score-v1", f"sqlite:///{tmp_path / f'v1-{i}.sqlite'}") for i, m in enumerate(MOMENTS)]
    assert pinned[0] == pinned[1]
    # The same seeds on the wall clock: the two moments give other games, so the clock
    # does reach NetHack under faketime and the equality above is the pin's doing.
    wall = [played(m, "nethack/Score-v0", f"sqlite:///{tmp_path / f'v0-{i}.sqlite'}") for i, m in enumerate(MOMENTS)]
    assert wall[0] != wall[1]


BIRTHDAY = """
import ctypes, gymarena
env = gymarena.make({task!r})
env.reset(seed=3)
library = ctypes.CDLL(env.unwrapped.nethack.dlpath)
print(ctypes.c_long.in_dll(library, "ubirthday").value)
"""


def test_the_game_birthday_follows_the_seed_not_the_clock():
    """The birthday NLE's fix_moon_phase leaves on the wall clock (NLE#129) picks shopkeeper
    names, shop prices and anthole species on deeper levels: the -v1 tasks pin it too."""
    pinned = {under_clock(m, sys.executable, "-c", BIRTHDAY.format(task="nethack/Score-v1")) for m in MOMENTS}
    assert len(pinned) == 1
    wall = {under_clock(m, sys.executable, "-c", BIRTHDAY.format(task="nethack/Score-v0")) for m in MOMENTS}
    assert len(wall) == 2


def test_nethack_games_are_seeded_and_carry_their_metrics(store):
    request = EvalRequest(tasks=("nethack/Score-v1",), seeds=(3,), episodes=2, backend="local")
    one = evaluate(request, store)
    two = evaluate(EvalRequest(tasks=("nethack/Score-v1",), seeds=(3,), episodes=2, backend="local", fresh=True), store)
    first, second = store.episodes(one.run.id), store.episodes(two.run.id)
    assert [r.outcome_fields() for r in first] == [r.outcome_fields() for r in second]
    for record in first:
        assert set(record.extra) == {"task_successful", "score", "max_depth", "turns", "end", "ascended"}
        assert record.extra["end"] in {"died", "starving", "poisoning", "step budget", "choking", "drowning",
                                       "burning", "dissolved", "crushing", "stoning", "turned_slime",
                                       "genocided", "panicked", "tricked", "quit", "escaped", "ascended"}


def test_nethack_scripted_baseline_beats_random_on_score(store):
    scores = {}
    for agent in ("random", "scripted"):
        result = evaluate(EvalRequest(tasks=("nethack/Score-v1",), seeds=(0, 1, 2, 3, 4), episodes=2, agent=agent,
                                      workers=2), store)
        scores[agent] = np.mean([r.extra["score"] for r in store.episodes(result.run.id)])
    assert scores["scripted"] > 1.5 * scores["random"], scores


def test_the_pinned_tasks_match_their_reference_fingerprint_on_any_date():
    """The simulator check of a -v1 task holds whatever the day (a reference pinned on one day
    must not read as drift on another); a -v0 task has no reference and says why."""
    for moment in MOMENTS:
        out = under_clock(moment, sys.executable, "-m", "gymarena", "check", "--task", "nethack/Score-v1", "--json")
        found = json.loads(out)["checks"]  # the random and the scripted player's
        assert len(found) == 2 and all(c["status"] == "matches" for c in found), out
    out = under_clock(MOMENTS[0], sys.executable, "-m", "gymarena", "check", "--task", "nethack/Score-v0", "--json")
    (unpinned,) = json.loads(out)["checks"]
    assert unpinned["status"].startswith("no reference: its games read the wall clock"), unpinned
