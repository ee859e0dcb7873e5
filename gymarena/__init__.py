"""gymarena: one harness over many RL simulators.

    import gymarena
    env = gymarena.make("minigrid/DoorKey-8x8-v0")        # the task's protocol applied
    result = gymarena.evaluate(gymarena.EvalRequest(suite="quickstart"))

After ``import gymarena`` every task id also works with ``gymnasium.make``. Importing it
reads the task catalog and loads nothing else: agents, suites, simulators, the runner and
the results store (with its SQL) are imported when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

from gymarena.catalog import load_catalog
from gymarena.errors import GymarenaError
from gymarena.tasks import TaskSpec, all_tasks, get_task

if TYPE_CHECKING:
    from gymarena.agents import Agent, RandomAgent, load_agent
    from gymarena.runner import EvalRequest, RunResult, evaluate
    from gymarena.suites import Suite, list_suites, load_suite

_LAZY = {
    "Agent": "gymarena.agents", "RandomAgent": "gymarena.agents", "load_agent": "gymarena.agents",
    "EvalRequest": "gymarena.runner", "RunResult": "gymarena.runner", "evaluate": "gymarena.runner",
    "Suite": "gymarena.suites", "list_suites": "gymarena.suites", "load_suite": "gymarena.suites",
}


def __getattr__(name: str) -> Any:
    """The public names that live elsewhere, imported on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gymarena' has no attribute {name!r}")


def make(task: str | TaskSpec, **overrides: Any) -> Any:
    """The env of a task id (or TaskSpec), with its protocol applied: a Gymnasium env, or a
    PettingZoo parallel env for multi-agent tasks."""
    from gymarena.wrappers import make_env

    spec = task if isinstance(task, TaskSpec) else get_task(task)
    return make_env(spec, **overrides)


load_catalog()

__all__ = [
    "Agent", "EvalRequest", "GymarenaError", "RandomAgent", "RunResult", "Suite", "TaskSpec",
    "all_tasks", "evaluate", "get_task", "list_suites", "load_agent", "load_suite", "make",
]
