"""gymarena: one harness over many RL simulators.

    import gymarena
    env = gymarena.make("minigrid/DoorKey-8x8-v0")        # the task's protocol applied
    result = gymarena.evaluate(gymarena.EvalRequest(suite="quickstart"))

After ``import gymarena`` every task id also works with ``gymnasium.make``. Importing it
loads no SQL: the runner and the results store are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from gymarena.agents import Agent, RandomAgent, load_agent
from gymarena.catalog import load_catalog
from gymarena.errors import GymarenaError
from gymarena.suites import Suite, list_suites, load_suite
from gymarena.tasks import TaskSpec, all_tasks, get_task
from gymarena.wrappers import make_env


def make(task, **overrides):
    """The env of a task id (or TaskSpec), with its protocol applied: a Gymnasium env, or a
    PettingZoo parallel env for multi-agent tasks."""
    spec = task if isinstance(task, TaskSpec) else get_task(task)
    return make_env(spec, **overrides)


if TYPE_CHECKING:
    from gymarena.runner import EvalRequest, RunResult, evaluate

_LAZY = {"EvalRequest": "gymarena.runner", "RunResult": "gymarena.runner", "evaluate": "gymarena.runner"}


def __getattr__(name: str) -> Any:
    """The runner's names, imported on first use (they bring the results store and its SQL)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gymarena' has no attribute {name!r}")


load_catalog()

__all__ = [
    "Agent", "EvalRequest", "GymarenaError", "RandomAgent", "RunResult", "Suite", "TaskSpec",
    "all_tasks", "evaluate", "get_task", "list_suites", "load_agent", "load_suite", "make",
]
