"""Meta-World v3 (Farama): the 50 manipulation tasks, each as MT1 with its 50 goal variations.

Meta-World's own ``Meta-World/MT1`` env draws the goal variation from its RNG *before*
``reset(seed)`` reseeds it, so an episode's goal depends on the episodes before it. Here the
variation is drawn from the episode seed itself: every episode is reproducible alone, as
the runner requires. The 50 variations come from ``metaworld.MT1(name, seed=benchmark_seed)``
(``benchmark_seed`` is in the task's kwargs, hence in the protocol hash). Episodes end on
success, as Meta-World's own ``evaluation`` does (``AutoTerminateOnSuccessWrapper``), or at
500 steps: success at any step is the episode's success.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.wrappers import TimeLimit

from gymarena.tasks import TaskSpec
from gymarena.wrappers.episode_metrics import EpisodeMetrics
from gymarena.wrappers.reset_only import ResetOnlyWrapper


class SeededGoalVariation(ResetOnlyWrapper):
    """Sets one of the benchmark's goal variations at each reset, chosen by the reset seed."""

    def __init__(self, env: gymnasium.Env, variations: list[Any]):
        super().__init__(env, variations=variations)
        self.variations = variations
        self.unseeded = np.random.default_rng()
        # The multi-task benchmarks make the goal observable; Meta-World recomputes the
        # space for that in set_task but keeps the one built at construction (goal bounds
        # 0), so every observation would lie outside it. Set a task, then take its space.
        env.unwrapped.set_task(variations[0])
        env.unwrapped.observation_space = env.unwrapped.sawyer_observation_space

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        chooser = np.random.default_rng(seed) if seed is not None else self.unseeded
        self.variation = int(chooser.integers(len(self.variations)))
        self.env.unwrapped.set_task(self.variations[self.variation])
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


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    import metaworld
    from metaworld.wrappers import AutoTerminateOnSuccessWrapper

    kwargs = {**task.kwargs, **overrides}
    benchmark_seed = kwargs.pop("benchmark_seed", 0)
    benchmark = metaworld.MT1(task.env_id, seed=benchmark_seed)
    env: gymnasium.Env = benchmark.train_classes[task.env_id](**kwargs)
    env = SeededGoalVariation(env, list(benchmark.train_tasks))
    env = TimeLimit(env, max_episode_steps=task.max_episode_steps or env.unwrapped.max_path_length)
    env = AutoTerminateOnSuccessWrapper(env)
    return MetaWorldMetrics(env)
