"""Meta-World v3 (Farama): the 50 manipulation tasks, each as MT1 with its 50 goal
variations or with its goal set of the MT10 or MT50 benchmark, and the held-out test tasks
of ML10 played in meta-RL trials.

Meta-World's own ``Meta-World/MT1`` env draws the goal variation from its RNG *before*
``reset(seed)`` reseeds it, so an episode's goal depends on the episodes before it. Here the
variation is drawn from the episode seed itself: every episode is reproducible alone, as
the runner requires. The 50 variations come from ``metaworld.MT1(name, seed=benchmark_seed)``
(``benchmark_seed`` is in the task's kwargs, hence in the protocol hash); with
``kwargs.benchmark = "MT10"`` or ``"MT50"`` they are the task's share of
``metaworld.MT10(seed=benchmark_seed).train_tasks`` (or MT50's): the goal set that
``gym.make_vec("Meta-World/MT10", seed=benchmark_seed)`` and ``metaworld.evaluation``
use, which is not MT1's (a benchmark draws every task's goals from one stream, in its
task order). Episodes end on
success, as Meta-World's own ``evaluation`` does (``AutoTerminateOnSuccessWrapper``), or at
500 steps: success at any step is the episode's success.

ML10 test tasks (``kwargs.benchmark = "ML10"``) take their 50 variations from
``metaworld.ML10(seed=benchmark_seed).test_tasks``, whose goal is hidden from the agent
(zeros in the observation): it must be found by adaptation. Such a task keeps its
variation across resets without a seed, so the episodes of a trial (runner/trials.py)
share one task, as Meta-World's ``toggle_sample_tasks_on_reset(False)`` does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import gymnasium
import numpy as np
from gymnasium.wrappers import TimeLimit

from gymarena.tasks import TaskSpec
from gymarena.wrappers.episode_metrics import EpisodeMetrics
from gymarena.wrappers.reset_only import ResetOnlyWrapper


class SeededGoalVariation(ResetOnlyWrapper):
    """Sets one of the benchmark's goal variations at each reset, chosen by the reset seed.

    A reset without a seed draws a fresh variation, or with ``keep_unseeded`` keeps the
    current one (the contract of tasks played in trials).
    """

    def __init__(self, env: gymnasium.Env, variations: list[Any], keep_unseeded: bool = False):
        super().__init__(env, variations=variations, keep_unseeded=keep_unseeded)
        self.variations = variations
        self.keep_unseeded = keep_unseeded
        self.variation: int | None = None
        self.unseeded = np.random.default_rng()
        # The multi-task benchmarks make the goal observable; Meta-World recomputes the
        # space for that in set_task but keeps the one built at construction (goal bounds
        # 0), so every observation would lie outside it. Set a task, then take its space.
        sawyer: Any = env.unwrapped  # Meta-World's SawyerXYZEnv
        sawyer.set_task(variations[0])
        sawyer.observation_space = sawyer.sawyer_observation_space

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None or not (self.keep_unseeded and self.variation is not None):
            chooser = np.random.default_rng(seed) if seed is not None else self.unseeded
            self.variation = int(chooser.integers(len(self.variations)))
            sawyer: Any = self.env.unwrapped
            sawyer.set_task(self.variations[self.variation])
        if seed is not None:
            # Meta-World's reset does not seed the Gymnasium RNG it inherits; seed it as
            # Env.reset would, so the env's np_random also follows the episode seed.
            gymnasium.Env.reset(self.env.unwrapped, seed=seed)
        return self.env.reset(seed=seed, options=options)


class MetaWorldMetrics(EpisodeMetrics):
    """Success, when it came, and how far the object ended from its target."""

    def on_reset(self, observation: Any, info: dict[str, Any]) -> None:
        self.steps = 0

    def on_step(self, observation: Any, reward: float, info: dict[str, Any]) -> None:
        self.steps += 1

    def summary(self, observation: Any, info: dict[str, Any], terminated: bool, truncated: bool) -> dict[str, Any]:
        success = bool(info.get("success", 0.0))
        return {
            "success": success,
            "success_step": self.steps if success else None,
            "obj_to_target": float(info.get("obj_to_target", float("nan"))),
            "goal_variation": self.env.get_wrapper_attr("variation"),
        }


BENCHMARKS = ("MT1", "MT10", "MT50", "ML10")


@cache
def _benchmark_tasks(name: str, benchmark_seed: int) -> tuple[Any, list[Any]]:
    """A multi-task benchmark's classes and goal variations (ML10: its held-out test ones),
    made once per process: Meta-World builds every env of the benchmark to draw them
    (MT10 ~5 s, ML10 ~8 s, MT50 ~25 s)."""
    import metaworld

    benchmark = getattr(metaworld, name)(seed=benchmark_seed)
    if name == "ML10":
        return benchmark.test_classes, list(benchmark.test_tasks)
    return benchmark.train_classes, list(benchmark.train_tasks)


# Meta-World's reward functions changed between releases (v1, v2), and a new release may change
# the default again: every task states the version it is scored with, never the package's
# default (Meta-World 3.x's own default, v2, for every task so far; a task's kwargs may name v1).
REWARD_FUNCTION_VERSION = "v2"


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    import metaworld
    from metaworld.wrappers import AutoTerminateOnSuccessWrapper

    kwargs = {"reward_function_version": REWARD_FUNCTION_VERSION, **task.kwargs, **overrides}
    benchmark_seed = kwargs.pop("benchmark_seed", 0)
    name = kwargs.pop("benchmark", "MT1")
    if name not in BENCHMARKS:
        raise ValueError(f"{task.id}: kwargs.benchmark must be one of {', '.join(BENCHMARKS)}, got {name!r}")
    held_out = name == "ML10"
    if name == "MT1":
        benchmark = metaworld.MT1(task.env_id, seed=benchmark_seed)
        classes, variations = benchmark.train_classes, list(benchmark.train_tasks)
    else:
        classes, variations = _benchmark_tasks(name, benchmark_seed)
        variations = [t for t in variations if t.env_name == task.env_id]
    env: gymnasium.Env = classes[task.env_id](**kwargs)
    env = SeededGoalVariation(env, variations, keep_unseeded=held_out)
    sawyer: Any = env.unwrapped
    env = TimeLimit(env, max_episode_steps=task.max_episode_steps or sawyer.max_path_length)
    env = AutoTerminateOnSuccessWrapper(env)
    return MetaWorldMetrics(env)
