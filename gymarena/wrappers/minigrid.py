"""MiniGrid (Farama). Its envs truncate themselves at ``max_steps``, so the task's
``max_episode_steps`` is passed as that argument instead of a TimeLimit wrapper."""

from __future__ import annotations

from gymarena.tasks import TaskSpec
from gymarena.wrappers.gymnasium_ids import make_registered


def make(task: TaskSpec, **overrides):
    import minigrid  # noqa: F401  registers the MiniGrid-* ids

    return make_registered(task, time_limit_kwarg="max_steps", **overrides)
