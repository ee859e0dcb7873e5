"""A safety board's suite played: one testing run of an AV under the suite's settings.

A ``board = "cav"`` suite (``cav-highway@1``) names one testing task (its mode), its test
budget (the task's episodes), its seeds (the first is the run's: batch i of tests is drawn
from (seed, i)) and its ``[cav]`` table: ``until_rhw`` (stop once the relative half-width
reaches it), ``batch_size`` and ``epsilon``. The run is an ordinary testing run
(runs.py), stored under the suite's label so its board ranks it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gymarena.cavtest.runs import MODES, TestingOrigin, run_cav_tests
from gymarena.cavtest.summary import Summary
from gymarena.errors import GymarenaError, SuiteFormatError
from gymarena.results import ResultsStore
from gymarena.suites import Suite

_MODE_OF_TASK = {task: mode for mode, task in MODES.items()}


def testing_settings(suite: Suite) -> dict[str, Any]:
    """The suite's testing run, as run_cav_tests' arguments; SuiteFormatError if it is not one."""
    if suite.board != "cav" or len(suite.tasks) != 1 or suite.tasks[0].id not in _MODE_OF_TASK:
        raise SuiteFormatError(f"{suite.path}: a cav board's suite has one task, a testing task: "
                               f"{', '.join(MODES.values())}")
    settings = dict(suite.settings)
    unknown = set(settings) - {"until_rhw", "batch_size", "epsilon"}
    if unknown:
        raise SuiteFormatError(f"{suite.path}: [cav] has unknown keys {', '.join(sorted(unknown))}; "
                               "it takes until_rhw, batch_size and epsilon")
    until_rhw = settings.get("until_rhw", 0.3)
    batch_size = settings.get("batch_size", 4096)
    epsilon = settings.get("epsilon", 0.1)
    if not isinstance(until_rhw, float) or not 0 < until_rhw < 1:
        raise SuiteFormatError(f"{suite.path}: [cav].until_rhw is a relative half-width between 0 and 1")
    if not isinstance(batch_size, int) or batch_size < 1 or not isinstance(epsilon, float) or not 0 < epsilon <= 1:
        raise SuiteFormatError(f"{suite.path}: [cav].batch_size is a positive integer, epsilon a share in (0, 1]")
    task = suite.tasks[0]
    return {"mode": _MODE_OF_TASK[task.id], "tests": task.episodes, "until_rhw": until_rhw, "batch_size": batch_size,
            "epsilon": epsilon}


def evaluate_cav_suite(store: ResultsStore, suite: Suite, av: str | TestingOrigin, seeds: Sequence[int] | None = None,
                       fresh: bool = False, say: Callable[[str], None] = print) -> tuple[int, Summary]:
    """Test an AV as the suite says (on ``seeds[0]``, default the suite's first seed); (run id, summary)."""
    settings = testing_settings(suite)
    chosen = tuple(seeds) if seeds else suite.seeds
    if len(chosen) != 1:
        raise GymarenaError(f"{suite.label} tests on one seed (batch i of its tests is drawn from (seed, i)); "
                            f"give one, not {len(chosen)}")
    origin = av if isinstance(av, TestingOrigin) else TestingOrigin(av)
    origin = TestingOrigin(origin.av, origin.kind, suite.label, origin.submission_id)
    return run_cav_tests(store, origin, settings["mode"], settings["tests"], settings["until_rhw"], chosen[0],
                         settings["batch_size"], settings["epsilon"], say=say, fresh=fresh)


def safety_suite(request: Any) -> Suite | None:
    """The cav board suite an ``EvalRequest`` names, or None (then the runner plays it); its
    tests are simulated in batches of their own, so the runner's options are refused."""
    from gymarena.suites import board_suite

    return board_suite(request, "cav", {"--episodes": request.episodes, "--workers": request.workers > 1,
                                        "--backend": request.backend, "--batch": request.batch > 1,
                                        "--algorithm": request.algorithm})
