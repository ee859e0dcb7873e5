"""highway-env (Farama): driving scenarios with IDM/MOBIL background traffic.

highway-env builds a new action space at every reset, so an action space a user (or a
test) seeded before ``reset`` is silently replaced by an unseeded one. The adapter keeps
the spaces made at construction (wrappers/reset_only.py).

Per-episode metrics: crashed (at any step), safe (no crash and never off the road: the
driving tasks' success), distance travelled by the ego vehicle (m), its mean speed
(m/s), the fraction of steps it spent on the road, and, for goal tasks (parking, exit),
whether the goal was reached.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from gymarena.tasks import TaskSpec
from gymarena.wrappers.episode_metrics import EpisodeMetrics
from gymarena.wrappers.gymnasium_ids import make_registered
from gymarena.wrappers.reset_only import FixedSpaces, ResetOnlyWrapper


def _ego(env: gymnasium.Env) -> Any:
    """The controlled vehicle of the highway-env env under the wrappers."""
    simulator: Any = env.unwrapped
    return simulator.vehicle


class HighwayMetrics(EpisodeMetrics):
    def on_reset(self, observation: Any, info: dict[str, Any]) -> None:
        vehicle = _ego(self.env)
        self.position = np.array(vehicle.position, dtype=float)
        self.distance = 0.0
        self.speeds: list[float] = []
        self.on_road = 0
        self.crashed = False
        self.goal = False

    def on_step(self, observation: Any, reward: float, info: dict[str, Any]) -> None:
        vehicle = _ego(self.env)
        position = np.array(vehicle.position, dtype=float)  # a copy: highway-env updates it in place
        self.distance += float(np.linalg.norm(position - self.position))
        self.position = position
        self.speeds.append(float(info.get("speed", vehicle.speed)))
        self.on_road += bool(vehicle.on_road)
        self.crashed = self.crashed or bool(info.get("crashed", False))
        self.goal = self.goal or bool(info.get("is_success", False))

    def summary(self, observation: Any, info: dict[str, Any], terminated: bool, truncated: bool) -> dict[str, Any]:
        steps = max(1, len(self.speeds))
        on_road = self.on_road / steps
        return {
            "crashed": self.crashed,
            "safe": not self.crashed and on_road == 1.0,
            "distance": round(self.distance, 3),
            "mean_speed": round(float(np.mean(self.speeds)) if self.speeds else 0.0, 3),
            "time_on_road": round(on_road, 4),
            "goal_reached": self.goal,
        }


class WithoutResetAction(ResetOnlyWrapper):
    """highway-env's reset info holds ``action``, a random action drawn from an unseeded
    space, and the ``rewards`` that action would earn (merge's lane-change term follows
    it), so two resets with the same seed give different infos. No action is taken at a
    reset: both keys are dropped, and the same seed gives the same reset, info included."""

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(**kwargs)
        info.pop("action", None)
        info.pop("rewards", None)
        return observation, info


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    import highway_env  # noqa: F401  registers the highway-env ids

    env = make_registered(task, **overrides)
    return HighwayMetrics(WithoutResetAction(FixedSpaces(env)))
