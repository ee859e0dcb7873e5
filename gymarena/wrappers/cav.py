"""CAV safety testing (gymarena/envs/cav): one test per episode, the agent driving the AV.
The NDD file's digest and the simulator's own code enter the protocol; AdaTE's code enters
the protocol of its own task only, so adding it moved no other task's protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium

from gymarena.provenance import source_digest
from gymarena.tasks import TaskSpec

SOURCES = ("sim.py", "ndd.py", "nade.py", "adaptive.py", "avs.py", "testing.py", "env.py", "data/ndd-default.json")
ADATE_SOURCES = ("adate.py", "adate_env.py")
DIRECTORY = Path(__file__).resolve().parents[1] / "envs" / "cav"


def protocol_facts() -> dict[str, str]:
    return {"cav simulator and default NDD sha256": source_digest(DIRECTORY, SOURCES)}


def task_facts(task: TaskSpec) -> dict[str, str]:
    """The AdaTE task's testing method (its learner, QP and importance function)."""
    if task.env_id.startswith("gymarena.envs.cav.adate_env:"):
        return {"cav AdaTE sha256": source_digest(DIRECTORY, ADATE_SOURCES)}
    return {}


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    from gymarena.envs.cav.env import CavEnv

    env: gymnasium.Env = CavEnv(**{**task.kwargs, **overrides})
    if task.max_episode_steps is not None:
        env = gymnasium.wrappers.TimeLimit(env, task.max_episode_steps)
    return env
