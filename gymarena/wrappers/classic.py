"""Gymnasium's classic-control environments (no extra needed)."""

from __future__ import annotations

from gymarena.tasks import TaskSpec
from gymarena.wrappers.gymnasium_ids import make_registered


def make(task: TaskSpec, **overrides):
    return make_registered(task, **overrides)
