"""Running many tests: batches of the vectorised simulator under NDE (naturalistic BVs).

``run_tests`` plays ``tests`` tests in batches and returns one outcome per test
(crashed, importance weight, steps, controlled decisions); test ``i`` is reproducible
from ``(seed, i // batch_size)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gymarena.envs.cav.ndd import NDD
from gymarena.envs.cav.sim import Batch, Policy, Road, initial_batch, step


def sample_maneuvers(probabilities: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling of one maneuver per row from the last axis."""
    cdf = np.cumsum(probabilities, axis=-1)
    cdf /= cdf[..., -1:]
    return np.minimum((uniforms[..., None] >= cdf).sum(axis=-1), probabilities.shape[-1] - 1)


class NaturalisticBVs:
    """NDE: every BV samples its maneuver from the NDD."""

    def __init__(self, ndd: NDD):
        self.ndd = ndd
        self.accelerations = ndd.acceleration_bins

    def decide(self, sim, speed, gap, range_rate, gap_left, gap_right, uniforms):
        return sample_maneuvers(self.ndd.probabilities(speed, gap, range_rate, gap_left, gap_right), uniforms)


@dataclass
class Outcomes:
    crashed: np.ndarray
    weights: np.ndarray
    steps: np.ndarray

    @property
    def values(self) -> np.ndarray:
        """Each test's outcome for the crash-rate estimate: weight x 1[crash]."""
        return np.where(self.crashed, self.weights, 0.0)


def play_batch(size: int, policy: Policy, controller, road: Road, seed: int, index: int,
               watch: int | None = None) -> tuple[Batch, list[tuple[np.ndarray, np.ndarray, bool]]]:
    """Play batch ``index`` of a run to its end; with ``watch``, also the positions, lanes
    and crash state of that test at every step (to draw it)."""
    batch = initial_batch(road, size, np.random.default_rng([seed, index]))
    if hasattr(controller, "start"):
        controller.start(batch)
    trace = []
    while batch.active.any():
        if watch is not None and batch.active[watch]:
            trace.append((batch.x[watch].copy(), batch.lane[watch].copy(), False))
        step(batch, policy, controller)
    if watch is not None:
        trace.append((batch.x[watch].copy(), batch.lane[watch].copy(), bool(batch.crashed[watch])))
    return batch, trace


def run_tests(tests: int, policy: Policy, controller, road: Road = Road(), seed: int = 0,
              batch_size: int = 8192) -> Outcomes:
    crashed, weights, steps = [], [], []
    for index, start in enumerate(range(0, tests, batch_size)):
        size = min(batch_size, tests - start)
        batch, _ = play_batch(size, policy, controller, road, seed, index)
        crashed.append(batch.crashed.copy())
        weights.append(controller.weights.copy() if hasattr(controller, "weights") else np.ones(size))
        steps.append(batch.steps.copy())
    return Outcomes(np.concatenate(crashed), np.concatenate(weights), np.concatenate(steps))
