"""An AV that none of the surrogate models matches: a lane-keeping adaptive cruise control.

The surrogates of NADE and AdaTE are IDM drivers (``avs.IDMMobil``): a nonlinear car-following
law whose braking grows with the square of the ratio of desired to actual gap, and MOBIL lane
changes. Production ACC is structurally different: a linear constant-time-gap feedback law

    a = k_gap (gap - standstill - time_gap v) + k_speed (v_leader - v)

bounded by the cruise controller ``k_cruise (v_set - v)`` and the actuator limits, and it never
changes lanes. The gains are those of the CACC/ACC field tests of Milanes and Shladover
("Modeling cooperative and autonomous adaptive cruise control dynamic responses using
experimental data", Transp. Res. C 48, 2014: k_gap = 0.23 s^-2, k_speed = 0.07 s^-1, ACC
time gap about 1.1 s). Its weak gap gain makes it brake later than IDM after a cut-in and
its lane keeping makes it stay behind a braking leader, so the surrogates' rollouts
misjudge which maneuvers endanger it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gymarena.envs.cav.avs import ACCELERATION_LIMITS, NO_VEHICLE, column


@dataclass(frozen=True)
class AdaptiveCruiseControl:
    """A linear constant-time-gap ACC that keeps its lane (the AV policy interface of ``avs``)."""

    k_gap: float = 0.23  # s^-2
    k_speed: float = 0.07  # s^-1
    k_cruise: float = 0.4  # s^-1
    time_gap: float = 1.1  # s
    standstill: float = 3.0  # m
    set_speed: float = 33.0  # m/s

    def acceleration(self, speed: np.ndarray, gap: np.ndarray, leader_speed: np.ndarray) -> np.ndarray:
        cruise = self.k_cruise * (self.set_speed - speed)
        following = self.k_gap * (gap - self.standstill - self.time_gap * speed) + self.k_speed * (leader_speed - speed)
        wanted = np.where(gap >= NO_VEHICLE, cruise, np.minimum(cruise, following))
        return np.clip(wanted, *ACCELERATION_LIMITS)

    def __call__(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        o = observations
        acceleration = self.acceleration(o[:, column("speed")], o[:, column("lead_gap")], o[:, column("lead_speed")])
        return acceleration, np.zeros(len(o), dtype=np.int64)


ACC = AdaptiveCruiseControl()
