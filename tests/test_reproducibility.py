"""The same seeds give the same episodes whatever the wall clock, time zone, hostname,
process id or Python's hash seed say: one task of every family that runs here, played
under two such settings in two processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from gymarena.tasks import get_task
from gymarena.wrappers import task_availability

# One task per family (NetHack: a -v1 task, whose clock is pinned; the -v0 tasks read it).
TASKS = (
    "classic/CartPole-v1", "minigrid/DoorKey-8x8-v0", "mujoco/HalfCheetah-v5", "metaworld/reach-v3",
    "highway/HighwayFast-v0", "traffic/SingleIntersection-v0", "traffic/Grid2x2-v0", "social/Impostor-5p1i-v0",
    "cav/Highway2Lane-NDE-v0", "nethack/Score-v1", "mario/SuperMarioBros-1-1-v0",
)
SETTINGS = (
    {"date": "2026-11-26 12:00:00", "TZ": "UTC", "PYTHONHASHSEED": "1", "hostname": "alpha"},
    {"date": "2031-02-13 23:59:30", "TZ": "Pacific/Kiritimati", "PYTHONHASHSEED": "2", "hostname": "beta"},
)


def _command(setting: dict[str, str], tasks: list[str], db: str) -> list[str]:
    faketime = shutil.which("faketime")
    if faketime is None:
        if os.environ.get("CI") == "true":
            pytest.fail("faketime is not installed (apt-get install faketime; scripts/test does)")
        pytest.skip("needs faketime (apt-get install faketime)")
    evaluation = [faketime, setting["date"], sys.executable, "-m", "gymarena", "eval", "--seeds", "0", "--episodes",
                  "2", "--json", "--db", db, *[a for t in tasks for a in ("--task", t)]]
    if os.geteuid() == 0 and shutil.which("unshare"):  # a hostname of its own, in a UTS namespace
        script = 'hostname "$0" && exec "$@"'
        return ["unshare", "--uts", "sh", "-c", script, setting["hostname"], *evaluation]
    return evaluation


def _start(setting: dict[str, str], tasks: list[str], db: str) -> subprocess.Popen:
    env = {**os.environ, "TZ": setting["TZ"], "PYTHONHASHSEED": setting["PYTHONHASHSEED"]}
    return subprocess.Popen(_command(setting, tasks, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _episodes(process: subprocess.Popen) -> dict[str, list[dict]]:
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    by_task: dict[str, list[dict]] = {}
    for episode in json.loads(stdout)["episodes"]:
        by_task.setdefault(episode["task_id"], []).append({k: v for k, v in episode.items() if k != "wall_seconds"})
    return by_task


def test_every_family_plays_the_same_episodes_whatever_the_machine_says(tmp_path):
    tasks = [t for t in TASKS if task_availability(get_task(t))[0]]
    if os.environ.get("CI") == "true":  # CI installs every family but StarCraft II
        assert tasks == list(TASKS), f"unavailable in CI: {sorted(set(TASKS) - set(tasks))}"
    processes = [_start(s, tasks, f"sqlite:///{tmp_path / f'{i}.sqlite'}") for i, s in enumerate(SETTINGS)]
    first, second = (_episodes(p) for p in processes)
    assert sorted(first) == sorted(tasks)
    differing = [task for task in tasks if first[task] != second[task]]
    assert not differing, f"these tasks played other episodes under another clock, hostname or hash seed: {differing}"
