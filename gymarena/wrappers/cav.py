"""CAV safety testing (gymarena/envs/cav): one test per episode, the agent driving the AV.
The simulator's declared version and its default NDD enter the protocol; AdaTE's version
enters the protocol of its own task only, so adding it moved no other task's protocol."""

from __future__ import annotations

from typing import Any

import gymnasium

from gymarena.tasks import TaskSpec
from gymarena.versions import CAV_ADATE, CAV_SIMULATOR


def protocol_facts() -> dict[str, str]:
    """The simulator's version (its first value also covered the default NDD's bytes, which
    are pinned since: an NDD file that differs from its pin is a fact of its own)."""
    return {"cav simulator and default NDD sha256": CAV_SIMULATOR.current, **CAV_SIMULATOR.data_facts()}


def task_facts(task: TaskSpec) -> dict[str, str]:
    """The AdaTE task's testing method (its learner, QP and importance function)."""
    if task.env_id.startswith("gymarena.envs.cav.adate_env:"):
        return {"cav AdaTE sha256": CAV_ADATE.current}
    return {}


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    from gymarena.envs.cav.env import CavEnv

    env: gymnasium.Env = CavEnv(**{**task.kwargs, **overrides})
    if task.max_episode_steps is not None:
        env = gymnasium.wrappers.TimeLimit(env, task.max_episode_steps)
    return env
