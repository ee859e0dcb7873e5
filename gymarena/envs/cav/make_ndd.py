"""Build the default NDD file (``data/ndd-default.json``) from a documented parametric model.

    python -m gymarena.envs.cav.make_ndd [--out PATH]

No naturalistic driving data set is reachable here, so the default NDD is a model with
the shape of one: longitudinal maneuvers are a stochastic IDM (a discretised Gaussian of
width ``SIGMA`` around the IDM acceleration of D2RL's NDD vehicles, evaluated at each
bin's centre) mixed with rare hard braking (``HARD_BRAKING`` of the mass on the lowest
bin: distraction, debris); lane changes have a per-decision probability that grows with
the gap in the target lane, with a small floor for tight gaps (the rare unsafe cut-in) and none into a vehicle alongside.
These tails are what make crashes possible; ``HARD_BRAKING`` and ``TIGHT_CUT_IN`` were
calibrated so that the built-in IDM/MOBIL AV crashes in the order of 1e-4 to 1e-3 of
400 m tests (see docs/cav.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from gymarena.envs.cav.avs import IDMMobil
from gymarena.envs.cav.ndd import DEFAULT_NDD, NDD

ACCELERATIONS = np.arange(-4.0, 2.0 + 1e-9, 1.0)  # m/s^2, D2RL's range in 1 m/s^2 steps
SPEED_EDGES = np.arange(0.0, 42.0 + 1e-9, 2.0)
RANGE_EDGES = np.arange(0.0, 120.0 + 1e-9, 5.0)
RANGE_RATE_EDGES = np.arange(-10.0, 8.0 + 1e-9, 2.0)
FREE_FLOW_RANGE = 120.0
SIGMA = 0.6  # m/s^2 spread of the stochastic IDM
HARD_BRAKING = 2e-3  # mass moved to the hardest braking bin in every state
GAP_EDGES = np.array([-1e4, 0.0, 3.0, 6.0, 10.0, 15.0, 20.0, 30.0, 50.0, 1e4])  # below 0: the space is taken
LANE_CHANGE_RATE = 0.02  # per decision and side, in a wide gap
TIGHT_CUT_IN = (5e-3, 2e-3)  # per decision and side, in a gap of 0-3 m and of 3-6 m
NDD_VEHICLE = IDMMobil(max_acceleration=2.0, comfortable_deceleration=4.0, min_gap=5.0, time_headway=1.5, desired_speed=33.0)


def _centres(edges: np.ndarray) -> np.ndarray:
    return (edges[:-1] + edges[1:]) / 2


def _discretised(mean: np.ndarray) -> np.ndarray:
    """Probabilities over ACCELERATIONS of a Gaussian around ``mean``, plus hard braking."""
    weights = np.exp(-0.5 * ((ACCELERATIONS - mean[..., None]) / SIGMA) ** 2)
    weights /= weights.sum(axis=-1, keepdims=True)
    weights *= 1.0 - HARD_BRAKING
    weights[..., 0] += HARD_BRAKING
    return weights


def build() -> NDD:
    speed, rng, rate = _centres(SPEED_EDGES), _centres(RANGE_EDGES), _centres(RANGE_RATE_EDGES)
    s, r, rr = np.meshgrid(speed, rng, rate, indexing="ij")
    following = _discretised(NDD_VEHICLE.acceleration(s, r, s + rr))
    free = _discretised(NDD_VEHICLE.acceleration(speed, np.full_like(speed, 1e9), speed))
    gap = _centres(np.clip(GAP_EDGES, -10.0, 100.0))
    lane_change = LANE_CHANGE_RATE / (1.0 + np.exp(-(gap - 15.0) / 3.0))
    lane_change[0] = 0.0  # nobody changes into a vehicle alongside
    lane_change[1], lane_change[2] = TIGHT_CUT_IN
    return NDD(ACCELERATIONS, SPEED_EDGES, RANGE_EDGES, RANGE_RATE_EDGES, free, following, FREE_FLOW_RANGE,
               GAP_EDGES, lane_change,
               description=("gymarena's parametric NDD (gymarena/envs/cav/make_ndd.py): stochastic IDM with rare hard "
                            "braking, gap-dependent lane changes with rare tight cut-ins; not fitted to data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_NDD)
    out = parser.parse_args().out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build().to_json(), separators=(",", ":")) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
