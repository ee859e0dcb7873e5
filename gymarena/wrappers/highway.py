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


# The IDM constants highway-env's intersection sets on its background drivers' class.
DRIVER_CONSTANTS = ("DISTANCE_WANTED", "COMFORT_ACC_MAX", "COMFORT_ACC_MIN")
_PACKAGE_DEFAULTS: dict[type, dict[str, Any]] = {}


class OwnDriverConstants(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """highway-env's intersection sets its background drivers' IDM constants on their class
    (``IDMVehicle.DISTANCE_WANTED = 7``, ...) at every reset, so every highway env played after
    it in the same process drove with them (and the scripted driver, which reads them): a
    task's episodes depended on which tasks ran before it. Here each env drives with its own:
    the package's defaults, restored before each reset, and what its reset sets, re-applied
    before each of its steps."""

    def __init__(self, env: gymnasium.Env):
        gymnasium.utils.RecordConstructorArgs.__init__(self)  # Gymnasium re-makes the env from its spec
        gymnasium.Wrapper.__init__(self, env)
        from highway_env import utils

        highway: Any = env.unwrapped  # a highway-env AbstractEnv, with its config
        self.drivers: type = utils.class_from_path(highway.config["other_vehicles_type"])
        _PACKAGE_DEFAULTS.setdefault(self.drivers, _constants(self.drivers))
        self.own = _PACKAGE_DEFAULTS[self.drivers]

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        _set_constants(self.drivers, _PACKAGE_DEFAULTS[self.drivers])
        result = self.env.reset(**kwargs)
        self.own = _constants(self.drivers)
        return result

    def step(self, action: Any) -> Any:
        _set_constants(self.drivers, self.own)
        return self.env.step(action)


def _constants(drivers: type) -> dict[str, Any]:
    return {name: getattr(drivers, name) for name in DRIVER_CONSTANTS}


def _set_constants(drivers: type, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(drivers, name, value)


def make(task: TaskSpec, **overrides: Any) -> gymnasium.Env:
    import highway_env  # noqa: F401  registers the highway-env ids
    from highway_env.vehicle.behavior import IDMVehicle

    # read before any env is made here: highway-env's constructor resets (the intersection's sets them)
    _PACKAGE_DEFAULTS.setdefault(IDMVehicle, _constants(IDMVehicle))
    env = make_registered(task, **overrides)
    return HighwayMetrics(WithoutResetAction(FixedSpaces(OwnDriverConstants(env))))
