"""Dataset exploitation and exploration: TQ and SACo of offline RL datasets.

Definitions follow Schweighofer et al., "A Dataset Perspective on Offline Reinforcement
Learning" (CoLLAs 2022; reference: ``source/offline_ds_evaluation/evaluator.py`` in
github.com/ml-jku/OfflineRL):

- g(D): mean undiscounted return over the *completed* episodes of D (an episode ends
  at a transition whose ``done`` is set; a trailing partial episode is dropped).
- TQ (trajectory quality) = (g(D) - g(D_random)) / (g*_online - g(D_random)), with
  g*_online the best online evaluation return.
- u(D): the number of unique (state, action) rows after concatenating state and action
  and discretising every dimension with ``np.digitize(x, np.linspace(lo, hi, num=bins))``
  (bins = 100), the limits taken from the reference dataset.
- SACo (state-action coverage) = u(D) / u(D_reference); lSACo = log u(D) / log u(D_ref).

One deliberate difference: u(D) is counted exactly by default. The reference estimates
it with a HyperLogLog sketch over ",".join(row) strings (about 1% error); here rows are
digitised into small integers and counted with a sort, which is exact and much faster
(``bench/saco.py``); ``counting="hyperloglog"`` reproduces the sketch, hashing each
dataset's rows in the reference's string form: a float dataset's as ``"3.0,..."``, an
integer one's as ``"3,..."`` (a sketch's estimate depends on the strings it sees). Bins, limit source and counting method are
parameters, recorded with every result.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DEFAULT_BINS = 100
COUNTING_METHODS = ("exact", "hyperloglog")
LIMIT_SOURCES = ("reference", "dataset")
HYPERLOGLOG_ERROR = 0.01  # the reference's HyperLogLog(0.01)
_CHUNK_ROWS = 1 << 20


@dataclass(frozen=True)
class Transitions:
    """An offline dataset as flat arrays, one row per transition."""

    observations: np.ndarray  # (N, ...) the state each action was taken in
    actions: np.ndarray  # (N,) or (N, ...)
    rewards: np.ndarray  # (N,)
    dones: np.ndarray  # (N,) True where an episode ended (terminated or truncated)

    def __post_init__(self) -> None:
        sizes = {len(self.observations), len(self.actions), len(self.rewards), len(self.dones)}
        if len(sizes) != 1:
            raise ValueError(
                "observations, actions, rewards and dones need one row per transition; got lengths "
                f"{len(self.observations)}, {len(self.actions)}, {len(self.rewards)}, {len(self.dones)}"
            )

    def __len__(self) -> int:
        return len(self.rewards)

    def state_actions(self) -> np.ndarray:
        """(N, D) rows of flattened state followed by flattened action, in the type NumPy
        gives their concatenation (as the reference's): integer data stays integer, so the
        HyperLogLog sketch hashes its rows as "3,1", and float data's as "3.0,1.0"."""
        n = len(self)
        states = np.asarray(self.observations).reshape(n, -1)
        actions = np.asarray(self.actions).reshape(n, -1)
        rows = np.concatenate([states, actions], axis=1)
        return rows.astype(np.int64) if rows.dtype == bool else rows


def completed_episode_returns(rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
    """Undiscounted return of every completed episode; a trailing partial one is dropped.

    Args:
        rewards: the reward of every transition, in order, shape (n,).
        dones: whether each transition ended its episode, shape (n,).
    Returns:
        The return of each completed episode, in order.
    """
    rewards = np.asarray(rewards, dtype=float).ravel()
    dones = np.asarray(dones, dtype=bool).ravel()
    ends = np.flatnonzero(dones)
    if ends.size == 0:
        return np.empty(0)
    totals = np.cumsum(rewards)[ends]
    return np.diff(np.concatenate([[0.0], totals]))


def _completed_returns(rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
    returns = completed_episode_returns(rewards, dones)
    if returns.size == 0:
        raise ValueError("the dataset holds no completed episode (no transition has done set), so g(D) is undefined")
    return returns


def dataset_return(rewards: np.ndarray, dones: np.ndarray) -> float:
    """g(D): the mean return over completed episodes.

    Args:
        rewards: the reward of every transition, shape (n,).
        dones: episode ends, shape (n,).
    Returns:
        g(D).
    Raises:
        ValueError: no episode is complete (g(D) is undefined).
    """
    return float(_completed_returns(rewards, dones).mean())


def trajectory_quality(dataset_g: float, random_g: float, online_best_g: float) -> float:
    """TQ = (g(D) - g(D_random)) / (g*_online - g(D_random)).

    Args:
        dataset_g: g(D), the dataset's mean episode return.
        random_g: g of the random policy's dataset (TQ 0).
        online_best_g: the best online evaluation return (TQ 1).
    Returns:
        TQ.
    """
    if online_best_g == random_g:
        raise ValueError("the best online return equals the random dataset's return; TQ is undefined")
    return (dataset_g - random_g) / (online_best_g - random_g)


def state_action_limits(rows: np.ndarray) -> np.ndarray:
    """(D, 2) per-dimension [min, max] of (state, action) rows: the digitisation limits.

    Args:
        rows: (state, action) rows, shape (n, D).
    Returns:
        The limits, shape (D, 2).
    """
    rows = np.asarray(rows)
    return np.stack([rows.min(axis=0), rows.max(axis=0)], axis=1).astype(float)


class _ColumnDigitiser:
    """``np.digitize(values, np.linspace(low, high, num=bins))`` for many columns, computed fast.

    The index is guessed arithmetically from the (uniform) bin width, then checked
    against the actual edges for every value that rounding could have put on the wrong
    side of one, so the result equals np.digitize exactly. Work buffers are reused from
    column to column: fresh multi-megabyte temporaries cost more in page faults than the
    arithmetic itself.
    """

    def __init__(self, size: int, dtype: np.dtype, bins: int):
        # Float32 data stays float32 (half the memory traffic); the tolerance accounts for it.
        self.work = np.dtype(dtype) if dtype in (np.float32, np.float64) else np.dtype(np.float64)
        self.bins = bins
        self.position = np.empty(size, self.work)
        self.floor = np.empty(size, self.work)
        self.guess = np.empty(size, np.int32)
        self.near = np.empty(size, bool)
        self.far = np.empty(size, bool)

    def __call__(self, values: np.ndarray, low: float, high: float, out: np.ndarray) -> None:
        bins, n = self.bins, values.size
        edges = np.linspace(low, high, num=bins)
        # A finite sum means every value is finite (an overflow only sends us to the slow path).
        if not high > low or not np.isfinite(values.sum(dtype=np.float64)):
            out[:] = np.digitize(values, edges)
            return
        position, floor, guess = self.position[:n], self.floor[:n], self.guess[:n]
        near, far = self.near[:n], self.far[:n]
        scale = (bins - 1) / (high - low)
        np.subtract(values, self.work.type(low), out=position, casting="unsafe")
        np.multiply(position, self.work.type(scale), out=position)  # edge i sits at position i, up to rounding
        np.floor(position, out=floor)
        np.copyto(guess, floor, casting="unsafe")
        guess += 1
        np.clip(guess, 0, bins, out=guess)
        # Rounding (of this arithmetic and of linspace) moves a value by far less than
        # `tolerance` positions; only values that close to an edge are checked against
        # it, in float64 as np.digitize compares.
        tolerance = 64 * np.finfo(self.work).eps * (max(abs(low), abs(high)) * scale + bins)
        np.subtract(position, floor, out=position)  # the fractional part
        np.less(position, tolerance, out=near)
        np.greater(position, 1.0 - tolerance, out=far)
        np.logical_or(near, far, out=near)
        candidates = np.flatnonzero(near)
        while candidates.size:  # one or two rounds
            g, v = guess[candidates].astype(np.int64), values[candidates]
            up = (g < bins) & (v >= edges[np.minimum(g, bins - 1)])
            down = (g > 0) & (v < edges[np.maximum(g - 1, 0)])
            moved = up | down
            candidates = candidates[moved]
            guess[candidates] += (up[moved].astype(np.int32) - down[moved].astype(np.int32))
        out[:] = guess


def digitise(rows: np.ndarray, limits: np.ndarray, bins: int = DEFAULT_BINS) -> np.ndarray:
    """Each column mapped to ``np.digitize(column, np.linspace(lo, hi, num=bins))`` as small ints.

    Args:
        rows: (state, action) rows, shape (n, D).
        limits: per-dimension [min, max], shape (D, 2).
        bins: bin edges per dimension.
    Returns:
        Bin indices, shape (n, D), in the smallest integer dtype that holds them.
    """
    rows = np.asarray(rows)
    if rows.ndim != 2:
        raise ValueError(f"rows must be (N, D), got shape {rows.shape}")
    limits = np.asarray(limits, dtype=float)
    if limits.shape != (rows.shape[1], 2):
        raise ValueError(f"limits must be (D, 2) = ({rows.shape[1]}, 2), got {limits.shape}")
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    dtype = np.uint8 if bins <= np.iinfo(np.uint8).max else np.uint16 if bins <= np.iinfo(np.uint16).max else np.uint32
    codes = np.empty(rows.shape, dtype=dtype)
    digitiser = _ColumnDigitiser(min(rows.shape[0], _CHUNK_ROWS), rows.dtype, bins)
    for start in range(0, rows.shape[0], _CHUNK_ROWS):
        # Column-major copy of one block: each column is then read contiguously.
        block = np.ascontiguousarray(rows[start:start + _CHUNK_ROWS].T)
        target = codes[start:start + _CHUNK_ROWS]
        digits = np.empty(block.shape[1], dtype=dtype)
        for column in range(rows.shape[1]):
            digitiser(block[column], limits[column, 0], limits[column, 1], digits)
            target[:, column] = digits
    return codes


def count_unique_rows(codes: np.ndarray, counting: str = "exact", float_rows: bool = False) -> int:
    """The number of distinct rows of a 2-D integer array: ``exact``, or estimated with
    the reference's HyperLogLog sketch over ``",".join(row)`` strings (``hyperloglog``,
    to reproduce the paper's own numbers; needs ``pip install hyperloglog``).

    The sketch hashes strings, so their form matters: the reference's rows of a float
    dataset are floats after digitising, hashed as ``"3.0,1.0"``; ``float_rows`` hashes
    them so (integer datasets keep ``"3,1"``). The exact count does not depend on it.

    Args:
        codes: digitised rows, shape (n, D).
        counting: ``"exact"`` or ``"hyperloglog"``.
        float_rows: whether the rows were digitised from floating-point data.
    Returns:
        The number of distinct rows (estimated with ``hyperloglog``).
    """
    if counting not in COUNTING_METHODS:
        raise ValueError(f"unknown counting method {counting!r}; choose one of {', '.join(COUNTING_METHODS)}")
    codes = np.ascontiguousarray(codes)
    if counting == "hyperloglog":
        return _hyperloglog_count(codes, float_rows)
    if codes.shape[0] == 0:
        return 0
    records = codes.view(np.dtype((np.void, codes.dtype.itemsize * codes.shape[1]))).ravel()
    return int(np.unique(records).size)


def _hyperloglog_count(codes: np.ndarray, float_rows: bool) -> int:
    try:
        from hyperloglog import HyperLogLog
    except ImportError:
        raise ImportError(
            "counting='hyperloglog' needs the sketch the reference code uses: pip install hyperloglog"
        ) from None
    sketch = HyperLogLog(HYPERLOGLOG_ERROR)
    rows = codes.astype(float) if float_rows else codes
    for row in rows.tolist():
        sketch.add(",".join(map(str, row)))
    return len(sketch)


def unique_state_actions(
    rows: np.ndarray, limits: np.ndarray | None = None, bins: int = DEFAULT_BINS, counting: str = "exact"
) -> int:
    """u(D): distinct digitised (state, action) rows, limits from ``limits`` or the rows.

    Args:
        rows: (state, action) rows, shape (n, D).
        limits: per-dimension [min, max], shape (D, 2); None: the rows' own.
        bins: bin edges per dimension.
        counting: ``"exact"`` or ``"hyperloglog"``.
    Returns:
        u(D).
    """
    rows = np.asarray(rows)
    if limits is None:
        limits = state_action_limits(rows)
    return count_unique_rows(digitise(rows, limits, bins), counting, float_rows=np.issubdtype(rows.dtype, np.floating))


def state_action_coverage(unique: int, reference_unique: int) -> tuple[float, float]:
    """(SACo, lSACo) = (u / u_ref, log u / log u_ref).

    Args:
        unique: u(D).
        reference_unique: u of the reference dataset.
    Returns:
        (SACo, lSACo).
    """
    if reference_unique < 1:
        raise ValueError("the reference dataset has no state-action pairs")
    log_ratio = math.log(unique) / math.log(reference_unique) if unique > 0 and reference_unique > 1 else float("nan")
    return unique / reference_unique, log_ratio


@dataclass(frozen=True)
class DatasetStats:
    """TQ and SACo of one dataset, with what they were computed from."""

    transitions: int
    episodes: int
    dataset_return: float
    random_return: float
    online_best_return: float
    tq: float
    unique_state_actions: int
    reference_unique_state_actions: int
    saco: float
    lsaco: float
    bins: int
    limits_from: str
    counting: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def dataset_statistics(
    dataset: Transitions,
    reference: Transitions,
    random: Transitions,
    online_best_return: float,
    bins: int = DEFAULT_BINS,
    limits_from: str = "reference",
    counting: str = "exact",
) -> DatasetStats:
    """TQ of ``dataset`` against the random dataset and the best online return, and its SACo
    against ``reference`` (the replay dataset in the paper).

    ``limits_from="reference"`` digitises both datasets within the reference's per-dimension
    range (one grid for both, so the counts are comparable);
    ``"dataset"`` gives each dataset its own range, as the reference code does when no
    limits are passed.

    Args:
        dataset: the dataset's transitions.
        reference: the reference dataset (SACo 1).
        random: a random policy's dataset (TQ 0).
        online_best_return: the best online evaluation return (TQ 1).
        bins: bin edges per dimension when counting unique pairs.
        limits_from: ``"reference"`` or ``"dataset"``.
        counting: ``"exact"`` or ``"hyperloglog"``.
    Returns:
        DatasetStats: returns, TQ, unique pairs, SACo and lSACo, with the parameters used.
    """
    if limits_from not in LIMIT_SOURCES:
        raise ValueError(f"unknown limit source {limits_from!r}; choose one of {', '.join(LIMIT_SOURCES)}")
    reference_rows = reference.state_actions()
    rows = dataset.state_actions()
    if rows.shape[1] != reference_rows.shape[1]:
        raise ValueError(
            f"dataset rows have {rows.shape[1]} state+action dimensions but the reference has "
            f"{reference_rows.shape[1]}: they must come from the same task"
        )
    reference_limits = state_action_limits(reference_rows)
    limits = reference_limits if limits_from == "reference" else state_action_limits(rows)
    unique = unique_state_actions(rows, limits, bins, counting)
    reference_unique = unique_state_actions(reference_rows, reference_limits, bins, counting)
    saco, lsaco = state_action_coverage(unique, reference_unique)
    returns = _completed_returns(dataset.rewards, dataset.dones)
    g = float(returns.mean())
    random_g = dataset_return(random.rewards, random.dones)
    return DatasetStats(
        transitions=len(dataset),
        episodes=int(returns.size),
        dataset_return=g,
        random_return=random_g,
        online_best_return=float(online_best_return),
        tq=trajectory_quality(g, random_g, online_best_return),
        unique_state_actions=unique,
        reference_unique_state_actions=reference_unique,
        saco=saco,
        lsaco=lsaco,
        bins=bins,
        limits_from=limits_from,
        counting=counting if counting == "exact" else f"hyperloglog (error {HYPERLOGLOG_ERROR})",
    )
