"""NADE: naturalistic and adversarial driving environments (Feng et al., Nat. Commun. 2021).

At each BV decision, the criticality of a maneuver of a BV near the AV is its exposure
(its NDD probability) times its challenge: whether, in a short rollout where the BV does
the maneuver and a surrogate model drives the AV, the AV crashes (1) or not (0). The BV
with the largest total criticality (if any is > 0) samples its maneuver from the
defensive importance distribution

    q = (1 - eps) * criticality / sum(criticality) + eps * p_NDD

and the test's importance weight is multiplied by p_NDD / q of the maneuver drawn; every
other BV samples from the NDD. Drawn with the same uniforms as NDE, eps = 1 gives NDE's
trajectories exactly.

The rollout is pairwise and short: the AV (surrogate IDM in its lane, no lane changes),
the candidate BV (the maneuver held for one decision, then constant speed) and the AV's
current leader (constant speed), for ``horizon`` seconds.
"""

from __future__ import annotations

import numpy as np

from gymarena.envs.cav.avs import IDMMobil
from gymarena.envs.cav.ndd import FIRST_ACCELERATION, LEFT, NDD, RIGHT
from gymarena.envs.cav.sim import Batch
from gymarena.envs.cav.testing import sample_maneuvers

SURROGATE = IDMMobil()  # D2RL's surrogate IDM: 2 m/s^2, 4 m/s^2, 5 m, 1.5 s, 35 m/s


class AdversarialBVs:
    """The NADE BV controller: one importance-sampled BV per decision, the others NDD."""

    def __init__(self, ndd: NDD, epsilon: float = 0.1, surrogates: tuple[IDMMobil, ...] = (SURROGATE,),
                 betas: np.ndarray | None = None, horizon: float = 2.0, candidates: int = 3, reach: float = 50.0):
        if not 0.0 < epsilon <= 1.0:
            raise ValueError(f"epsilon must be in (0, 1], got {epsilon}")
        self.ndd = ndd
        self.accelerations = ndd.acceleration_bins
        self.epsilon = epsilon
        self.surrogates = surrogates
        self.betas = np.full(len(surrogates), 1.0 / len(surrogates)) if betas is None else np.asarray(betas, dtype=float)
        self.horizon, self.candidates, self.reach = horizon, candidates, reach

    def start(self, batch: Batch) -> None:
        self.weights = np.ones(batch.tests)
        self.controlled = np.zeros(batch.tests, dtype=np.int64)
        # One entry per controlled decision: (rows in the batch, step, each surrogate's criticality
        # of the state, likelihood ratio p/q of the maneuver drawn): the adaptive mode's data.
        self.decisions: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []

    def decide(self, sim: Batch, speed, gap, range_rate, gap_left, gap_right, uniforms):
        p = self.ndd.probabilities(speed, gap, range_rate, gap_left, gap_right)  # (tests, BVs, maneuvers)
        maneuvers = sample_maneuvers(p, uniforms)
        per_surrogate, candidate = self.surrogate_challenges(sim)  # (surrogates, tests, K, maneuvers), (tests, K)
        challenge = np.tensordot(self.betas, per_surrogate, axes=1)
        exposure = np.take_along_axis(p, np.maximum(candidate, 0)[..., None], axis=1)
        criticality = np.where(candidate[..., None] >= 0, exposure * challenge, 0.0)
        totals = criticality.sum(axis=-1)
        best = totals.argmax(axis=-1)
        tests = np.arange(sim.tests)
        controlled = totals[tests, best] > 0
        if controlled.any():
            which = np.flatnonzero(controlled)
            bv = candidate[which, best[which]]
            crit = criticality[which, best[which]]
            p_bv = p[which, bv]
            q = (1.0 - self.epsilon) * crit / crit.sum(axis=-1, keepdims=True) + self.epsilon * p_bv
            drawn = sample_maneuvers(q, uniforms[which, bv])
            maneuvers[which, bv] = drawn
            ratio = p_bv[np.arange(which.size), drawn] / q[np.arange(which.size), drawn]
            target = self._target_rows(sim, which)
            self.weights[target] *= ratio
            self.controlled[target] += 1
            # Each surrogate's criticality of the state (its crash probability from here under the
            # NDD), and the AV's observed value of it: the decision's likelihood ratio if it crashed soon.
            state_criticality = (per_surrogate[:, which, best[which], :] * p_bv[None]).sum(axis=-1).T
            self.decisions.append((target, sim.step_count, state_criticality, ratio))
        return maneuvers

    def _target_rows(self, sim: Batch, which: np.ndarray) -> np.ndarray:
        """Rows of the full batch for rows ``which`` of the (active) sub-batch."""
        return (sim.rows_in_batch if sim.rows_in_batch is not None else np.arange(sim.tests))[which]

    def surrogate_challenges(self, sim: Batch) -> tuple[np.ndarray, np.ndarray]:
        """For the ``candidates`` BVs nearest the AV (within ``reach`` m and one lane): each
        surrogate's crash indicator for each maneuver (surrogates, tests, K, maneuvers); the
        candidates' BV indices (-1 pads)."""
        x, lane = sim.x, sim.lane
        dx = x[:, 1:] - x[:, :1]
        near = (np.abs(dx) <= self.reach) & (np.abs(lane[:, 1:] - lane[:, :1]) <= 1)
        order = np.argsort(np.where(near, np.abs(dx), np.inf), axis=1)[:, : self.candidates]
        candidate = np.where(np.take_along_axis(near, order, axis=1), order, -1)
        return np.stack([self._rollouts(sim, candidate, surrogate) for surrogate in self.surrogates]), candidate

    def _rollouts(self, sim: Batch, candidate: np.ndarray, surrogate: IDMMobil) -> np.ndarray:
        road = sim.road
        n, k = candidate.shape
        m = self.ndd.maneuvers
        bv = np.maximum(candidate, 0) + 1  # vehicle index
        rows = np.arange(n)[:, None]
        # the AV's current leader in its lane (constant speed), from the full state
        dx_all = sim.x[:, 1:] - sim.x[:, :1]
        in_lane = (sim.lane[:, 1:] == sim.lane[:, :1]) & (dx_all > 0)
        lead_dx = np.where(in_lane, dx_all, np.inf)
        lead = lead_dx.argmin(axis=1)
        has_lead = np.isfinite(lead_dx.min(axis=1))
        shape = (n, k, m)
        av_x = np.broadcast_to(sim.x[:, :1, None], shape).astype(float).copy()
        av_v = np.broadcast_to(sim.v[:, :1, None], shape).astype(float).copy()
        av_lane = np.broadcast_to(sim.lane[:, :1, None], shape)
        b_x = np.broadcast_to(sim.x[rows, bv][..., None], shape).astype(float).copy()
        b_v = np.broadcast_to(sim.v[rows, bv][..., None], shape).astype(float).copy()
        maneuver = np.arange(m)[None, None, :]
        b_lane = sim.lane[rows, bv][..., None] + np.where(maneuver == LEFT, 1, np.where(maneuver == RIGHT, -1, 0))
        valid = (b_lane >= 0) & (b_lane < road.lanes)
        b_a = np.where(maneuver >= FIRST_ACCELERATION, self.accelerations[np.maximum(maneuver - FIRST_ACCELERATION, 0)], 0.0)
        lead_x = np.where(has_lead[:, None] & (candidate != lead[:, None]), sim.x[np.arange(n), lead + 1][:, None], np.inf)
        l_x = np.broadcast_to(lead_x[..., None], shape).astype(float).copy()  # the candidate itself is not its own ghost
        l_v = np.broadcast_to(sim.v[np.arange(n), lead + 1][:, None, None], shape)
        crashed = np.zeros(shape, dtype=bool)
        length = road.vehicle_length
        steps = int(round(self.horizon / road.dt))
        for t in range(steps):
            if t == road.decision_steps:
                b_a = np.zeros(shape)
            same = b_lane == av_lane
            b_ahead = same & (b_x > av_x)
            gap_b = np.where(b_ahead, b_x - av_x - length, np.inf)
            gap_l = l_x - av_x - length
            use_b = gap_b < gap_l
            gap = np.minimum(gap_b, gap_l)
            leader_speed = np.where(use_b, b_v, l_v)
            a = surrogate.acceleration(av_v, np.where(np.isfinite(gap), gap, 1e9), leader_speed)
            new_av_v = np.clip(av_v + a * road.dt, 0.0, road.max_speed)
            av_x += 0.5 * (av_v + new_av_v) * road.dt
            av_v = new_av_v
            new_b_v = np.clip(b_v + b_a * road.dt, 0.0, road.max_speed)
            b_x += 0.5 * (b_v + new_b_v) * road.dt
            b_v = new_b_v
            l_x = l_x + l_v * road.dt
            crashed |= (same & (np.abs(b_x - av_x) < length)) | (np.abs(l_x - av_x) < length)
        return np.where(valid & (candidate[..., None] >= 0), crashed, False).astype(float)
