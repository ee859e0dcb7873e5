"""The ``scripted`` agent: each family's hand-written baseline, chosen by the task's family.

``gymarena eval --agent scripted`` plays, per task, the baseline of its family (the
module in :data:`FAMILY_BASELINES`). Its identity hash covers every family's declared version
(gymarena/versions.py): a baseline whose behaviour changes is a new version, a style edit
is nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

from gymarena.errors import AgentLoadError
from gymarena.tasks import TaskSpec

FAMILY_BASELINES = {
    "highway": "gymarena.baselines.scripted.highway",
    "mario": "gymarena.baselines.scripted.mario",
    "metaworld": "gymarena.baselines.scripted.metaworld",
    "sc2": "gymarena.baselines.scripted.sc2",
    "social": "gymarena.baselines.scripted.social",
    "nethack": "gymarena.baselines.scripted.nethack",
    "traffic": "gymarena.baselines.scripted.traffic",
}


def make_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> Any:
    """The scripted baseline of the task's family."""
    module = FAMILY_BASELINES.get(task.family)
    if module is None:
        raise AgentLoadError(
            f"there is no scripted baseline for {task.family} tasks such as {task.id}; "
            f"families with one: {', '.join(sorted(FAMILY_BASELINES))}"
        )
    return importlib.import_module(module).make_agent(task, observation_space, action_space)

