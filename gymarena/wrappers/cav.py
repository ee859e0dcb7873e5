"""CAV safety testing (gymarena/envs/cav): one test per episode, the agent driving the AV.
The NDD file's digest and the simulator's own code enter the protocol."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import gymnasium

from gymarena.tasks import TaskSpec

SOURCES = ("sim.py", "ndd.py", "nade.py", "avs.py", "testing.py", "env.py", "data/ndd-default.json")


def protocol_facts() -> dict[str, str]:
    directory = Path(__file__).resolve().parents[1] / "envs" / "cav"
    digest = hashlib.sha256(b"".join((directory / name).read_bytes() for name in SOURCES)).hexdigest()
    return {"cav simulator and default NDD sha256": digest}


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    from gymarena.envs.cav.env import CavEnv

    env: gymnasium.Env = CavEnv(**{**task.kwargs, **overrides})
    if task.max_episode_steps is not None:
        env = gymnasium.wrappers.TimeLimit(env, task.max_episode_steps)
    return env
