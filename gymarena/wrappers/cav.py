"""CAV safety testing (gymarena/envs/cav): one test per episode, the agent driving the AV.
The NDD file's digest and the simulator's own code enter the protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium

from gymarena.provenance import source_digest
from gymarena.tasks import TaskSpec

SOURCES = ("sim.py", "ndd.py", "nade.py", "adaptive.py", "avs.py", "testing.py", "env.py", "data/ndd-default.json")


def protocol_facts() -> dict[str, str]:
    directory = Path(__file__).resolve().parents[1] / "envs" / "cav"
    return {"cav simulator and default NDD sha256": source_digest(directory, SOURCES)}


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    from gymarena.envs.cav.env import CavEnv

    env: gymnasium.Env = CavEnv(**{**task.kwargs, **overrides})
    if task.max_episode_steps is not None:
        env = gymnasium.wrappers.TimeLimit(env, task.max_episode_steps)
    return env
