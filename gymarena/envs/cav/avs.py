"""Built-in automated vehicles (AVs) under test, vectorised over many tests at once.

An AV policy is a callable ``policy(observations) -> (acceleration, lane_change)`` on a
batch: ``observations`` has shape (tests, OBSERVATION_SIZE) (see :data:`OBSERVATION`),
the answer is an acceleration (m/s^2) and a lane change (-1 right, 0 keep, +1 left) per
test. The built-ins are IDM (longitudinal) with MOBIL (lane changes), parameterised as in
D2RL's AV and surrogate models; ``cautious`` and ``aggressive`` variants make two AVs
whose crash rates differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Observation layout: speed, lane index, left lane exists, right lane exists, then
# (gap, speed) of the leader and follower in the own, left and right lanes; a missing
# vehicle has gap NO_VEHICLE and the AV's own speed.
NEIGHBOURS = ("lead", "follow", "left_lead", "left_follow", "right_lead", "right_follow")
OBSERVATION = ("speed", "lane", "has_left", "has_right", *(f"{n}_{q}" for n in NEIGHBOURS for q in ("gap", "speed")))
OBSERVATION_SIZE = len(OBSERVATION)
NO_VEHICLE = 1000.0
ACCELERATION_LIMITS = (-4.0, 2.0)


def column(name: str) -> int:
    return OBSERVATION.index(name)


@dataclass(frozen=True)
class IDMMobil:
    """IDM car following with MOBIL lane changes (politeness 0: the AV considers only
    itself and the safety of the new follower)."""

    max_acceleration: float = 2.0
    comfortable_deceleration: float = 4.0
    min_gap: float = 5.0
    time_headway: float = 1.5
    desired_speed: float = 35.0
    delta: float = 4.0
    lane_change_gain: float = 0.1  # m/s^2 of acceleration a change must gain
    max_imposed_braking: float = 4.0  # m/s^2 the new follower may be made to brake

    def acceleration(self, speed: np.ndarray, gap: np.ndarray, leader_speed: np.ndarray) -> np.ndarray:
        """IDM's acceleration within the vehicle limits."""
        return np.clip(self.demand(speed, gap, leader_speed), *ACCELERATION_LIMITS)

    def demand(self, speed: np.ndarray, gap: np.ndarray, leader_speed: np.ndarray) -> np.ndarray:
        """IDM's acceleration before the limits (a braking demand beyond them shows danger)."""
        free = 1.0 - (np.maximum(speed, 0.0) / self.desired_speed) ** self.delta
        closing = speed - leader_speed
        wanted = self.min_gap + np.maximum(0.0, speed * self.time_headway + speed * closing
                                           / (2.0 * np.sqrt(self.max_acceleration * self.comfortable_deceleration)))
        interaction = np.where(gap >= NO_VEHICLE, 0.0, (wanted / np.maximum(gap, 0.1)) ** 2)
        return self.max_acceleration * (free - interaction)

    def __call__(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        o = observations
        speed = o[:, column("speed")]
        current = self.acceleration(speed, o[:, column("lead_gap")], o[:, column("lead_speed")])
        change = np.zeros(len(o), dtype=np.int64)
        best_gain = np.full(len(o), self.lane_change_gain)
        for side, prefix, exists in ((1, "left", "has_left"), (-1, "right", "has_right")):
            lead_gap, lead_speed = o[:, column(f"{prefix}_lead_gap")], o[:, column(f"{prefix}_lead_speed")]
            follow_gap, follow_speed = o[:, column(f"{prefix}_follow_gap")], o[:, column(f"{prefix}_follow_speed")]
            after = self.acceleration(speed, lead_gap, lead_speed)
            imposed = self.demand(follow_speed, follow_gap, speed)  # the new follower's braking behind the AV
            safe = (o[:, column(exists)] > 0) & (lead_gap > 0) & (follow_gap > 0) & (imposed >= -self.max_imposed_braking)
            gain = after - current
            better = safe & (gain > best_gain)
            change = np.where(better, side, change)
            best_gain = np.where(better, gain, best_gain)
        return current, change


AVS = {
    "idm": IDMMobil(),
    "cautious": IDMMobil(max_acceleration=1.5, time_headway=2.0, min_gap=8.0, desired_speed=30.0, lane_change_gain=0.5,
                         max_imposed_braking=2.0),
    "aggressive": IDMMobil(max_acceleration=2.0, time_headway=0.8, min_gap=2.0, desired_speed=38.0, lane_change_gain=0.05,
                           max_imposed_braking=6.0),
}
