"""The adapter shared by families whose environments Gymnasium builds: a registered id
(``CartPole-v1``) or an entry point (``package.module:EnvClass``)."""

from __future__ import annotations

from typing import Any

import gymnasium
from gymnasium.envs.registration import EnvSpec

from gymarena.tasks import TaskSpec


def _target(task: TaskSpec) -> str | EnvSpec:
    """The id itself, or for an entry point an EnvSpec, so both get Gymnasium's wrappers."""
    if ":" in task.env_id and task.env_id not in gymnasium.registry:
        return EnvSpec(id=task.id, entry_point=task.env_id)
    return task.env_id


def make_registered(task: TaskSpec, time_limit_kwarg: str | None = None, **overrides: Any) -> gymnasium.Env:
    """``gymnasium.make`` of the task's env with its kwargs and episode limit.

    ``time_limit_kwarg`` names the env's own step-limit argument (MiniGrid's
    ``max_steps``) for families that truncate inside the env rather than by TimeLimit.
    """
    kwargs = {**task.kwargs, **overrides}
    if task.max_episode_steps is not None:
        if time_limit_kwarg is None:
            kwargs["max_episode_steps"] = task.max_episode_steps
        else:
            kwargs[time_limit_kwarg] = task.max_episode_steps
    return gymnasium.make(_target(task), **kwargs)
