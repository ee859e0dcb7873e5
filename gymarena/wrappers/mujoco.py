"""Gymnasium's MuJoCo v5 locomotion and manipulation tasks."""

from __future__ import annotations

from gymarena.tasks import TaskSpec
from gymarena.wrappers.gymnasium_ids import make_registered


def make(task: TaskSpec, **overrides):
    import mujoco  # noqa: F401  fail here, with the extra named, rather than deep in gymnasium

    return make_registered(task, **overrides)
