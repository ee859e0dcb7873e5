"""highway-env: the IDM car-following and MOBIL lane-change rules highway-env's background
vehicles drive by (``highway_env.vehicle.behavior.IDMVehicle`` and its constants),
applied to the ego vehicle from its Kinematics observation, then turned into the ego's
meta-actions (change lane, faster, slower, keep).

The default Kinematics observation gives the ego's absolute state and the nearest
vehicles relative to it, normalised: x by 5 x MAX_SPEED, y by 4 m x the lanes of the
road, speeds by 2 x MAX_SPEED. This driver takes the straight multi-lane roads (highway,
merge); roundabout and intersection have their own (highway_paths.py). Exit (six lane
changes to the right in 18 s through dense, slower traffic: neither MOBIL nor a keep-right
variant of it ever reached the exit lane in 20 tries), racetrack (steering from an
occupancy grid) and parking (goal-conditioned continuous control) have none yet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gymarena.errors import AgentLoadError
from gymarena.tasks import TaskSpec

LANE_WIDTH = 4.0
LANES = {"highway-fast-v0": 3, "merge-v1": 2}  # lanes of the road the ego starts on
LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER = range(5)


def idm_acceleration(speed: float, target_speed: float, gap: float | None, front_speed: float | None) -> float:
    """IDM with highway-env's constants: free-road term minus the interaction term with
    the vehicle (or obstacle) ``gap`` metres ahead moving at ``front_speed``, if any."""
    from highway_env.vehicle.behavior import IDMVehicle as idm

    free = idm.COMFORT_ACC_MAX * (1.0 - (max(speed, 0.0) / target_speed) ** idm.DELTA)
    if gap is None:
        return free
    assert front_speed is not None, "a vehicle ahead has a speed"
    desired = idm.DISTANCE_WANTED + speed * idm.TIME_WANTED + speed * (speed - front_speed) / (
        2.0 * np.sqrt(idm.COMFORT_ACC_MAX * -idm.COMFORT_ACC_MIN)
    )
    return free - idm.COMFORT_ACC_MAX * (max(desired, 0.0) / max(gap, 1e-3)) ** 2


class IdmMobilDriver:
    def __init__(self, task: TaskSpec):
        from highway_env.vehicle.behavior import IDMVehicle
        from highway_env.vehicle.kinematics import Vehicle

        self.idm = IDMVehicle
        self.x_scale = 5.0 * Vehicle.MAX_SPEED
        self.speed_scale = 2.0 * Vehicle.MAX_SPEED
        self.lanes = LANES[task.env_id]
        self.y_scale = LANE_WIDTH * self.lanes
        self.target_speed = 30.0  # the ego's fastest target speed (MDPVehicle: 20, 25, 30 m/s)

    def reset(self, seed: int | None = None) -> None:
        pass  # deterministic

    def acceleration(self, speed: float, gap: float | None, front_speed: float | None) -> float:
        return idm_acceleration(speed, self.target_speed, gap, front_speed)

    def act(self, observation: Any) -> int:
        rows = np.asarray(observation, dtype=float)
        ego, others = rows[0], rows[1:][rows[1:, 0] > 0.5]  # present vehicles only
        speed = ego[3] * self.speed_scale
        lane = int(round(ego[2] * self.y_scale / LANE_WIDTH))
        dx = others[:, 1] * self.x_scale
        lane_offset = np.round(others[:, 2] * self.y_scale / LANE_WIDTH).astype(int)
        speeds = speed + others[:, 3] * self.speed_scale

        def neighbours(offset: int) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
            ahead = [(d, v) for d, o, v in zip(dx, lane_offset, speeds) if o == offset and d > 0]
            behind = [(-d, v) for d, o, v in zip(dx, lane_offset, speeds) if o == offset and d <= 0]
            return min(ahead, default=None), min(behind, default=None)

        front, _ = neighbours(0)
        current = self.acceleration(speed, *(front or (None, None)))
        best, best_gain = None, self.idm.LANE_CHANGE_MIN_ACC_GAIN
        for offset, action in ((-1, LANE_LEFT), (1, LANE_RIGHT)):
            if not 0 <= lane + offset < self.lanes:
                continue
            new_front, new_rear = neighbours(offset)
            if new_rear is not None:  # MOBIL safety: the new follower must not brake too hard
                rear_gap, rear_speed = new_rear
                if self.acceleration(rear_speed, rear_gap, speed) < -self.idm.LANE_CHANGE_MAX_BRAKING_IMPOSED:
                    continue
            gain = self.acceleration(speed, *(new_front or (None, None))) - current  # politeness 0
            if gain > best_gain:
                best, best_gain = action, gain
        if best is not None:
            return best
        if current < -1.0:
            return SLOWER
        if current > 0.5:
            return FASTER
        return IDLE


def make_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> Any:
    from gymarena.baselines.scripted import highway_paths

    if task.env_id in LANES:
        return IdmMobilDriver(task)
    if task.env_id in highway_paths.DRIVERS:
        return highway_paths.DRIVERS[task.env_id](task)
    covered = sorted([*LANES, *highway_paths.DRIVERS])
    raise AgentLoadError(f"the scripted highway baseline drives {', '.join(covered)}; there is none for {task.id} yet")
