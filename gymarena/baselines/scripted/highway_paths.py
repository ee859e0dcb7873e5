"""highway-env roundabout and intersection: IDM along the ego's own path, yielding to
vehicles predicted to cross it.

These scenarios observe absolute positions and velocities (Kinematics with
``absolute=True``, normalised by the scenario's ``features_range``). Each decision, every
observed vehicle is extrapolated at constant velocity over the next few seconds; the
first predicted position inside the ego's corridor ahead (3.5 m either side of its
heading) becomes the obstacle of IDM's interaction term (a vehicle already there keeps
its speed along the ego's heading; one crossing later counts as stopped).

Roundabout (meta-actions): the ego cruises at the middle target speed (8 m/s) and drops
to the lowest (stop) while IDM brakes harder than 1 m/s^2, tracking its target-speed
index itself. Intersection (continuous acceleration and steering): IDM's acceleration,
never braking below standstill, and highway-env's own lane-following controller
(``ControlledVehicle.steering_control``) on the lane offsets the observation carries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gymarena.baselines.scripted.highway import FASTER, IDLE, SLOWER, idm_acceleration
from gymarena.tasks import TaskSpec

CORRIDOR_HALF_WIDTH = 3.5  # m
HORIZON = 3.0  # s, looked ahead at 0.5 s steps
VEHICLE_LENGTH = 5.0  # m


def _features_range(task: TaskSpec) -> dict[str, list[float]]:
    """The scenario's observation normalisation, from highway-env's default config."""
    import gymnasium
    import highway_env  # noqa: F401  registers the ids
    from gymnasium.envs.registration import load_env_creator

    entry_point = gymnasium.spec(task.env_id).entry_point  # highway-env registers "module:Class" strings
    creator: Any = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    config = creator.default_config()
    config.update(task.kwargs.get("config", {}))
    return config["observation"]["features_range"]


def path_obstacle(
    position: np.ndarray, speed: float, heading: float, others_position: np.ndarray, others_velocity: np.ndarray
) -> tuple[float, float] | None:
    """(gap, speed along the ego's heading) of the nearest obstacle on the ego's path, if any."""
    forward = np.array([np.cos(heading), np.sin(heading)])
    left = np.array([-forward[1], forward[0]])
    nearest = None
    for where, velocity in zip(others_position, others_velocity):
        for t in np.arange(0.0, HORIZON + 1e-9, 0.5):
            offset = where + velocity * t - position
            ahead, aside = float(offset @ forward), float(offset @ left)
            if 0 < ahead < VEHICLE_LENGTH + speed * t + 15.0 and abs(aside) < CORRIDOR_HALF_WIDTH:
                gap = max(ahead - VEHICLE_LENGTH, 0.1)
                moving = float(velocity @ forward) if t == 0 else 0.0
                if nearest is None or gap < nearest[0]:
                    nearest = (gap, moving)
                break
    return nearest


class PathDriver:
    """Reads the absolute Kinematics rows and finds the obstacle on the ego's path."""

    cruise_speed = 8.0

    def __init__(self, task: TaskSpec):
        ranges = _features_range(task)
        self.position_scale = np.array([ranges["x"][1], ranges["y"][1]], dtype=float)
        self.velocity_scale = np.array([ranges["vx"][1], ranges["vy"][1]], dtype=float)

    def reset(self, seed: int | None = None) -> None:
        self.heading = 0.0

    def perceive(self, observation: Any) -> tuple[np.ndarray, float, tuple[float, float] | None]:
        """(ego row, ego speed, obstacle on its path)."""
        rows = np.asarray(observation, dtype=float)
        ego, others = rows[0], rows[1:][rows[1:, 0] > 0.5]
        velocity = ego[3:5] * self.velocity_scale
        speed = float(np.hypot(*velocity))
        if speed > 0.3:  # standing still, keep the last heading
            self.heading = float(np.arctan2(velocity[1], velocity[0]))
        obstacle = path_obstacle(
            ego[1:3] * self.position_scale, speed, self.heading,
            others[:, 1:3] * self.position_scale, others[:, 3:5] * self.velocity_scale,
        )
        return ego, speed, obstacle

    def acceleration(self, speed: float, obstacle: tuple[float, float] | None) -> float:
        return idm_acceleration(speed, self.cruise_speed, *(obstacle or (None, None)))


class RoundaboutDriver(PathDriver):
    TARGET_SPEEDS = np.array([0.0, 8.0, 16.0])  # the scenario's meta-action target speeds
    CRUISE_INDEX = 1

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        self.target_index: int | None = None

    def act(self, observation: Any) -> int:
        _, speed, obstacle = self.perceive(observation)
        if self.target_index is None:
            self.target_index = int(np.argmin(np.abs(self.TARGET_SPEEDS - speed)))
        wanted = 0 if self.acceleration(speed, obstacle) < -1.0 else self.CRUISE_INDEX
        if self.target_index < wanted:
            self.target_index += 1
            return FASTER
        if self.target_index > wanted:
            self.target_index -= 1
            return SLOWER
        return IDLE


class IntersectionDriver(PathDriver):
    cruise_speed = 9.0  # the scenario's top target speed
    MAX_ACCELERATION = 5.0  # ContinuousAction's acceleration range
    MAX_STEERING = np.pi / 3  # the scenario's steering range

    def act(self, observation: Any) -> np.ndarray:
        ego, speed, obstacle = self.perceive(observation)
        acceleration = max(self.acceleration(speed, obstacle), -speed)  # stop within a decision, never reverse
        steering = self.lane_following(speed, lateral_offset=ego[6], heading_offset=ego[7])
        return np.array(
            [np.clip(acceleration / self.MAX_ACCELERATION, -1, 1), np.clip(steering / self.MAX_STEERING, -1, 1)],
            dtype=np.float32,
        )

    @staticmethod
    def lane_following(speed: float, lateral_offset: float, heading_offset: float) -> float:
        """highway-env's ControlledVehicle.steering_control, from the lane offsets."""
        from highway_env.vehicle.controller import ControlledVehicle as controlled

        speed = max(speed, 0.1)
        lateral_speed = -controlled.KP_LATERAL * lateral_offset
        heading_reference = np.clip(np.arcsin(np.clip(lateral_speed / speed, -1, 1)), -np.pi / 4, np.pi / 4)
        heading_rate = controlled.KP_HEADING * (heading_reference - heading_offset)
        slip = np.arcsin(np.clip(controlled.LENGTH / 2 / speed * heading_rate, -1, 1))
        return float(np.arctan(2 * np.tan(slip)))


DRIVERS = {"roundabout-v1": RoundaboutDriver, "intersection-v1": IntersectionDriver}
