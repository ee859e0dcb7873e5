"""The highway simulator, vectorised over a batch of tests: numpy arrays of shape
(tests, vehicles), never a Python object per vehicle.

Vehicle 0 of each test is the AV under test, the others are background vehicles (BVs).
Every ``dt`` (0.1 s) the AV policy chooses an acceleration and a lane change (at most
one per ``lane_change_interval``); every ``decision_steps`` steps (1 s) each BV picks a
maneuver (a lane change, or an acceleration held until its next decision) from the
``BVController`` (NDD sampling, or NADE's importance sampling). Lane changes are
instantaneous. A test ends when the AV crashes (its body overlaps a BV's in a lane),
has driven ``distance`` metres, or after ``max_seconds``. BVs do not collide with each
other (they may pass through one another); only crashes involving the AV count, as in
D2RL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from gymarena.envs.cav.avs import ACCELERATION_LIMITS, NO_VEHICLE, OBSERVATION_SIZE

Policy = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Road:
    lanes: int = 2
    distance: float = 400.0  # metres the AV drives in a test
    dt: float = 0.1
    decision_steps: int = 10  # BV decision every decision_steps * dt seconds
    max_seconds: float = 40.0
    vehicle_length: float = 5.0
    max_speed: float = 40.0
    vehicles_per_lane: int = 5  # the AV's lane holds the AV and vehicles_per_lane - 1 BVs
    initial_gap: tuple[float, float] = (10.0, 20.0)  # gap = minimum + headway x speed + exponential extra of this mean (m)
    initial_headway: float = 1.0  # s
    initial_speed: tuple[float, float] = (25.0, 33.0)  # each lane's speed; vehicles within +-1 m/s of it
    lane_change_interval: float = 1.0  # seconds between two AV lane changes

    @property
    def vehicles(self) -> int:
        return self.lanes * self.vehicles_per_lane

    @property
    def max_steps(self) -> int:
        return int(round(self.max_seconds / self.dt))


class BVController(Protocol):
    """Chooses the background vehicles' maneuvers; ``accelerations`` are the accelerations
    its maneuver indices past the lane changes stand for."""

    accelerations: np.ndarray

    def decide(self, sim: Batch, speed: np.ndarray, gap: np.ndarray, range_rate: np.ndarray,
               gap_left: np.ndarray, gap_right: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """Maneuver index per BV, shape (tests, BVs), for the active tests."""


@dataclass
class Batch:
    """The state of a batch of tests."""

    road: Road
    x: np.ndarray
    lane: np.ndarray
    v: np.ndarray
    a: np.ndarray
    rng: np.random.Generator
    step_count: int = 0
    active: np.ndarray = field(init=False)
    crashed: np.ndarray = field(init=False)
    steps: np.ndarray = field(init=False)
    last_lane_change: np.ndarray = field(init=False)
    # a read-only view of some tests (:func:`_subset`): where they sit in the full batch
    rows_in_batch: np.ndarray | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        n = self.x.shape[0]
        self.active = np.ones(n, dtype=bool)
        self.crashed = np.zeros(n, dtype=bool)
        self.steps = np.zeros(n, dtype=np.int64)
        self.last_lane_change = np.full(n, -10**6, dtype=np.int64)

    @property
    def tests(self) -> int:
        return self.x.shape[0]


def initial_batch(road: Road, tests: int, rng: np.random.Generator) -> Batch:
    """Vehicles spread over all lanes with safe gaps; the AV at x = 0 in a random lane,
    somewhere in its lane's queue."""
    per_lane, length = road.vehicles_per_lane, road.vehicle_length
    lane_speed = rng.uniform(*road.initial_speed, size=(tests, road.lanes, 1))
    speed = np.clip(lane_speed + rng.uniform(-1.0, 1.0, size=(tests, road.lanes, per_lane)), 0.0, road.max_speed)
    gaps = (road.initial_gap[0] + road.initial_headway * speed
            + rng.exponential(road.initial_gap[1], size=(tests, road.lanes, per_lane)) + length)
    positions = np.cumsum(gaps, axis=2)
    av_lane = rng.integers(road.lanes, size=tests)
    av_slot = rng.integers(1, per_lane - 1, size=tests) if per_lane > 2 else np.zeros(tests, dtype=np.int64)
    shift = positions[np.arange(tests), av_lane, av_slot]
    offsets = rng.uniform(-0.5, 0.5, size=(tests, road.lanes, 1)) * gaps.mean(axis=2, keepdims=True)
    offsets[np.arange(tests), av_lane] = 0.0
    positions = positions + offsets - shift[:, None, None]
    lanes = np.broadcast_to(np.arange(road.lanes)[None, :, None], positions.shape)
    # Put the AV first: swap its slot with slot (lane 0, 0) in the flattened order.
    flat_x = positions.reshape(tests, -1).copy()
    flat_lane = lanes.reshape(tests, -1).copy()
    flat_v = speed.reshape(tests, -1).copy()
    av_index = av_lane * per_lane + av_slot
    rows = np.arange(tests)
    for array in (flat_x, flat_lane, flat_v):
        first = array[:, 0].copy()
        array[rows, 0] = array[rows, av_index]
        array[rows, av_index] = first
    return Batch(road, flat_x, flat_lane.astype(np.int64), flat_v, np.zeros_like(flat_v), rng)


def _nearest(dx: np.ndarray, in_lane: np.ndarray, ahead: bool) -> tuple[np.ndarray, np.ndarray]:
    """(distance, index) of the nearest vehicle ahead (or behind) among those in_lane."""
    masked = np.where(in_lane & ((dx > 0) if ahead else (dx <= 0)), np.abs(dx), np.inf)
    index = masked.argmin(axis=-1)
    return np.take_along_axis(masked, index[..., None], axis=-1)[..., 0], index


def av_observations(batch: Batch) -> np.ndarray:
    """The AV's observation (see avs.OBSERVATION) for every test of the batch."""
    road = batch.road
    n = batch.tests
    ego_lane, ego_x, ego_v = batch.lane[:, 0], batch.x[:, 0], batch.v[:, 0]
    dx = batch.x[:, 1:] - ego_x[:, None]
    out = np.empty((n, OBSERVATION_SIZE))
    out[:, 0], out[:, 1] = ego_v, ego_lane
    out[:, 2], out[:, 3] = ego_lane < road.lanes - 1, ego_lane > 0
    column = 4
    for offset in (0, 1, -1):
        in_lane = batch.lane[:, 1:] == (ego_lane + offset)[:, None]
        for ahead in (True, False):
            distance, index = _nearest(dx, in_lane, ahead)
            found = np.isfinite(distance)
            gap = np.where(found, distance - road.vehicle_length, NO_VEHICLE)
            speed = np.where(found, np.take_along_axis(batch.v[:, 1:], index[:, None], axis=1)[:, 0], ego_v)
            out[:, column], out[:, column + 1] = gap, speed
            column += 2
    return out


def bv_states(batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per BV: speed, range to its leader (inf: none), range rate, and the smaller gaps to
    the left and right lanes' leader and follower (nan: no such lane)."""
    road = batch.road
    x, lane, v = batch.x, batch.lane, batch.v
    dx = x[:, None, :] - x[:, 1:, None]  # (tests, BVs, all vehicles): others relative to each BV
    self_mask = np.zeros(dx.shape, dtype=bool)
    self_mask[:, np.arange(dx.shape[1]), np.arange(1, dx.shape[2])] = True
    own = lane[:, 1:, None]
    results = []
    for offset in (0, 1, -1):
        in_lane = (lane[:, None, :] == own + offset) & ~self_mask
        lead, lead_index = _nearest(dx, in_lane, True)
        follow, _ = _nearest(dx, in_lane, False)
        results.append((lead, lead_index, follow))
    length = road.vehicle_length
    lead, lead_index, _ = results[0]
    gap = lead - length
    leader_speed = np.take_along_axis(np.broadcast_to(v[:, None, :], dx.shape), lead_index[..., None], axis=2)[..., 0]
    range_rate = np.where(np.isfinite(lead), leader_speed - v[:, 1:], 0.0)
    side_gaps = []
    for (side_lead, _, side_follow), offset in zip(results[1:], (1, -1)):
        target = lane[:, 1:] + offset
        exists = (target >= 0) & (target < road.lanes)
        smaller = np.minimum(side_lead, side_follow) - length
        side_gaps.append(np.where(exists, smaller, np.nan))
    return v[:, 1:], gap, range_rate, side_gaps[0], side_gaps[1]


def apply_maneuvers(batch: Batch, maneuvers: np.ndarray, accelerations: np.ndarray, rows: np.ndarray) -> None:
    """Set the chosen maneuvers of the BVs in ``rows`` (tests): lane changes shift lanes at
    once (and hold the speed), accelerations are held until the next decision."""
    from gymarena.envs.cav.ndd import FIRST_ACCELERATION, LEFT, RIGHT

    lane = batch.lane[rows, 1:]
    lane = np.where(maneuvers == LEFT, lane + 1, np.where(maneuvers == RIGHT, lane - 1, lane))
    batch.lane[rows, 1:] = np.clip(lane, 0, batch.road.lanes - 1)
    acceleration = np.where(maneuvers >= FIRST_ACCELERATION, accelerations[np.maximum(maneuvers - FIRST_ACCELERATION, 0)], 0.0)
    batch.a[rows, 1:] = acceleration


def step(batch: Batch, policy: Policy, controller: BVController) -> None:
    """Advance every active test of the batch by dt."""
    road = batch.road
    rows = np.flatnonzero(batch.active)
    if rows.size == 0:
        return
    if batch.step_count % road.decision_steps == 0:
        sub = _active(batch, rows)
        states = bv_states(sub)
        uniforms = batch.rng.random(size=(batch.tests, road.vehicles - 1))[rows]
        maneuvers = controller.decide(sub, *states, uniforms=uniforms)
        apply_maneuvers(batch, maneuvers, controller.accelerations, rows)
    observations = av_observations(_active(batch, rows))
    acceleration, lane_change = policy(observations)
    acceleration = np.clip(np.asarray(acceleration, dtype=float), *ACCELERATION_LIMITS)
    lane_change = np.asarray(lane_change, dtype=np.int64)
    allowed = (batch.step_count - batch.last_lane_change[rows]) * road.dt >= road.lane_change_interval - 1e-9
    target = batch.lane[rows, 0] + lane_change
    changing = allowed & (lane_change != 0) & (target >= 0) & (target < road.lanes)
    batch.lane[rows, 0] = np.where(changing, target, batch.lane[rows, 0])
    batch.last_lane_change[rows] = np.where(changing, batch.step_count, batch.last_lane_change[rows])
    batch.a[rows, 0] = acceleration
    v = batch.v[rows]
    a = batch.a[rows]
    new_v = np.clip(v + a * road.dt, 0.0, road.max_speed)
    batch.x[rows] += 0.5 * (v + new_v) * road.dt
    batch.v[rows] = new_v
    batch.steps[rows] += 1
    same_lane = batch.lane[rows, 1:] == batch.lane[rows, :1]
    overlap = np.abs(batch.x[rows, 1:] - batch.x[rows, :1]) < road.vehicle_length
    crash = np.any(same_lane & overlap, axis=1)
    batch.crashed[rows] |= crash
    done = crash | (batch.x[rows, 0] >= road.distance) | (batch.steps[rows] >= road.max_steps)
    batch.active[rows[done]] = False
    batch.step_count += 1


def _active(batch: Batch, rows: np.ndarray) -> Batch:
    """The batch itself while every test is running (no copies on the hot path), else a
    read-only view of the running ones."""
    return batch if rows.size == batch.tests else _subset(batch, rows)


def _subset(batch: Batch, rows: np.ndarray) -> Batch:
    """A view of some tests for reading (the arrays are copies; writes go through ``rows``)."""
    view = Batch.__new__(Batch)
    view.road, view.rng, view.step_count = batch.road, batch.rng, batch.step_count
    view.x, view.lane, view.v, view.a = batch.x[rows], batch.lane[rows], batch.v[rows], batch.a[rows]
    view.active, view.crashed, view.steps = batch.active[rows], batch.crashed[rows], batch.steps[rows]
    view.last_lane_change = batch.last_lane_change[rows]
    view.rows_in_batch = rows  # where these tests sit in the full batch
    return view
