"""Every registered task whose simulator is installed passes its API's checker
(Gymnasium's ``check_env``, PettingZoo's ``parallel_api_test`` for multi-agent tasks). That
the same seeds replay the same rollout, and other seeds another, is the fingerprint test's
(tests/test_fingerprints.py: against the reference recorded in the package)."""

from __future__ import annotations

import os
import warnings

import pytest
from gymnasium.utils.env_checker import check_env

import gymarena
from gymarena.tasks import all_tasks
from gymarena.wrappers import task_availability

HORIZON = 25


# What CI cannot run: the StarCraft II game, which no package registry ships (its runtime is installed).
CI_UNAVAILABLE = {"sc2"}


def _installed(task):
    """The task as a test case; skipped where its simulator is missing, except in CI, where
    a family CI installs must run: there it fails (with the install hint), never skips."""
    available, reason = task_availability(task)
    if available or (os.environ.get("CI") == "true" and task.family not in CI_UNAVAILABLE):
        return pytest.param(task, id=task.id)
    return pytest.param(task, id=task.id, marks=pytest.mark.skip(reason=reason))


TASKS = [_installed(t) for t in all_tasks()]


@pytest.mark.parametrize("task", TASKS)
def test_check_env(task):
    env = gymarena.make(task)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # style advice such as "-inf bounds"; errors still raise
        if task.agents == "multi":
            from pettingzoo.test import parallel_api_test

            parallel_api_test(env, num_cycles=HORIZON)
        else:
            check_env(env, skip_render_check=True)
    env.close()
