"""The adapter shared by families whose environments are Gymnasium-registered ids."""

from __future__ import annotations

from typing import Any

import gymnasium

from gymarena.tasks import TaskSpec


def make_registered(task: TaskSpec, time_limit_kwarg: str | None = None, **overrides: Any) -> gymnasium.Env:
    """``gymnasium.make`` of the task's env id with its kwargs and episode limit.

    ``time_limit_kwarg`` names the env's own step-limit argument (MiniGrid's
    ``max_steps``) for families that truncate inside the env rather than by TimeLimit.
    """
    kwargs = {**task.kwargs, **overrides}
    if task.max_episode_steps is not None:
        if time_limit_kwarg is None:
            kwargs["max_episode_steps"] = task.max_episode_steps
        else:
            kwargs[time_limit_kwarg] = task.max_episode_steps
    return gymnasium.make(task.env_id, **kwargs)
