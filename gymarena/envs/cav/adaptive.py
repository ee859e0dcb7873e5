"""Adaptive testing (Yang et al., "Adaptive Testing Environment Generation for Connected and
Automated Vehicles with Dense Reinforcement Learning"): NADE whose challenge combines
several surrogate models of the AV with coefficients beta (beta >= 0, sum beta = 1),
refitted as tests accumulate so the testing environment adapts to the AV under test.

The fit is dense: its data are the critical decisions only (those where a BV was
steered). Each gives each surrogate's criticality of the state (sum over maneuvers of
NDD probability x challenge: that surrogate's crash probability from the state) as
features, and the AV's observed value of the state as target: the decision's likelihood
ratio p_NDD/q if the AV crashed within the rollout horizon, else 0 (an unbiased estimate
of the AV's crash probability from the state under the NDD). Beta solves the quadratic
program

    minimise || F beta - y ||^2   subject to   beta >= 0, sum(beta) = 1

with quadprog (through qpsolvers). Each batch of tests runs with the betas fitted on the
batches before it, so every test's importance weight is exact for the distribution that
produced it and the estimate stays unbiased.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gymarena.envs.cav.avs import IDMMobil
from gymarena.envs.cav.nade import AdversarialBVs
from gymarena.envs.cav.ndd import NDD
from gymarena.envs.cav.sim import Policy, Road, initial_batch, step
from gymarena.envs.cav.testing import NaturalisticBVs, Outcomes

# Surrogates from cautious to aggressive drivers (the middle one is NADE's surrogate).
SURROGATES = (
    IDMMobil(time_headway=2.0, min_gap=8.0, desired_speed=30.0, max_acceleration=1.5),
    IDMMobil(),
    IDMMobil(time_headway=0.8, min_gap=2.0, desired_speed=38.0),
)


MODES = ("nde", "nade", "adaptive")


def make_controller(mode: str, ndd: NDD, epsilon: float = 0.1, betas: np.ndarray | None = None):
    """The BV controller of a testing mode: NDD sampling, NADE with its IDM surrogate, or
    NADE over the adaptive surrogates at ``betas`` (equal ones if not given)."""
    if mode == "nde":
        return NaturalisticBVs(ndd)
    if mode == "nade":
        return AdversarialBVs(ndd, epsilon=epsilon)
    if mode == "adaptive":
        return AdversarialBVs(ndd, epsilon=epsilon, surrogates=SURROGATES, betas=betas)
    raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


def fit_betas(features: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The simplex coefficients that best predict ``targets`` from ``features`` (least squares)."""
    import qpsolvers

    features = np.asarray(features, dtype=float)
    targets = np.asarray(targets, dtype=float)
    if features.ndim != 2 or features.shape[0] != targets.shape[0]:
        raise ValueError(f"features must be (decisions, surrogates) matching targets, got {features.shape} and {targets.shape}")
    k = features.shape[1]
    # A tiny ridge keeps the problem strictly convex when surrogates agree (identical columns).
    regularised = np.vstack([features, 1e-6 * np.eye(k)])
    padded = np.concatenate([targets, np.full(k, 1e-6 / k)])
    beta = qpsolvers.solve_ls(regularised, padded, A=np.ones((1, k)), b=np.array([1.0]), lb=np.zeros(k), solver="quadprog")
    if beta is None:
        raise RuntimeError("the QP solver found no coefficients")
    beta = np.clip(beta, 0.0, None)
    return beta / beta.sum()


class BetaFitter:
    """The dense data of every batch so far, and the betas fitted on them."""

    def __init__(self, surrogates: int):
        self.betas = np.full(surrogates, 1.0 / surrogates)
        self.features: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []

    def observe(self, controller: AdversarialBVs, batch, road: Road) -> np.ndarray:
        """Add a finished batch's critical decisions and refit; the new betas."""
        horizon = int(round(controller.horizon / road.dt))
        for rows, at, criticality, ratio in controller.decisions:
            self.features.append(criticality)
            self.targets.append(ratio * (batch.crashed[rows] & (batch.steps[rows] - at <= horizon)))
        if self.features:
            self.betas = fit_betas(np.concatenate(self.features), np.concatenate(self.targets).astype(float))
        return self.betas


@dataclass
class AdaptiveRun:
    outcomes: Outcomes
    betas: list[np.ndarray] = field(default_factory=list)  # the betas each batch ran with


def run_adaptive(tests: int, policy: Policy, ndd: NDD, surrogates: tuple[IDMMobil, ...] = SURROGATES,
                 road: Road = Road(), seed: int = 0, batch_size: int = 2048, epsilon: float = 0.1) -> AdaptiveRun:
    fitter = BetaFitter(len(surrogates))
    crashed, weights, steps, used = [], [], [], []
    for index, start in enumerate(range(0, tests, batch_size)):
        size = min(batch_size, tests - start)
        betas = fitter.betas
        controller = AdversarialBVs(ndd, epsilon=epsilon, surrogates=surrogates, betas=betas)
        batch = initial_batch(road, size, np.random.default_rng([seed, index]))
        controller.start(batch)
        while batch.active.any():
            step(batch, policy, controller)
        used.append(betas.copy())
        crashed.append(batch.crashed.copy())
        weights.append(controller.weights.copy())
        steps.append(batch.steps.copy())
        fitter.observe(controller, batch, road)
    return AdaptiveRun(Outcomes(np.concatenate(crashed), np.concatenate(weights), np.concatenate(steps)), used)
