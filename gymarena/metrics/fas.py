"""FAS, the Frequency-Averaged Score: how well a policy holds up at slower decision rates.

From Patel & Siegelmann, "Overcoming Slow Decision Frequencies in Continuous Control"
(ICLR 2025); reference: ``notebooks/table2.ipynb`` and ``scripts/eval_sac.py`` of
github.com/dee0512/Sequence-Reinforcement-Learning.

The policy is evaluated at action-sequence lengths (ASL) l = 1, 2, 4, 6, ..., 30: it
observes once and its actions run open loop for l primitive steps. R(l) is the mean
undiscounted return over the episodes at that l (10 in the reference). Then

    FAS = trapz(R(l) + c, l) / (R_max * 30)

integrated with the trapezoid rule over the (non-uniform) grid exactly as numpy does,
with R_max and the offset c per environment (the reference adds 65 to Reacher and 1550
to Pendulum returns). A policy scoring R_max at every l gets 29/30. FAS is computed per
seed and averaged over seeds. On a grid other than the paper's, the divisor is
R_max x (the largest l), which is 30 on the paper's grid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

FAS_GRID: tuple[int, ...] = (1, *range(2, 31, 2))

_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # type: ignore[attr-defined]  # numpy 2 renamed trapz


def frequency_averaged_score(
    intervals: Sequence[int], returns: Sequence[float], r_max: float, offset: float = 0.0
) -> float:
    """FAS of one seed from R(l) at each decision interval l (sorted ascending).

    Args:
        intervals: the decision intervals l, increasing, at least two.
        returns: R(l) at each interval.
        r_max: the return that counts as full marks.
        offset: added to every R(l) to make returns non-negative.
    Returns:
        FAS (29/30 for R_max at every l on the paper's grid).
    """
    grid = np.asarray(intervals, dtype=float)
    values = np.asarray(returns, dtype=float)
    if grid.ndim != 1 or grid.shape != values.shape or grid.size < 2:
        raise ValueError(f"need R(l) at two or more intervals, got intervals {list(intervals)} and {values.size} returns")
    if np.any(np.diff(grid) <= 0):
        raise ValueError(f"decision intervals must increase, got {list(intervals)}")
    if r_max <= 0:
        raise ValueError(f"R_max must be positive, got {r_max}")
    return float(_trapezoid(values + offset, grid) / (r_max * grid[-1]))


def returns_by_interval(records: Sequence[tuple[int, int, float]]) -> dict[int, dict[int, float]]:
    """R(l) per seed from (seed, decision interval, return) triples: {seed: {l: mean return}}.

    Args:
        records: (seed, decision interval, episode return) triples.
    Returns:
        {seed: {interval: mean return}}, intervals in increasing order.
    """
    sums: dict[int, dict[int, list[float]]] = {}
    for seed, interval, episode_return in records:
        sums.setdefault(seed, {}).setdefault(interval, []).append(episode_return)
    return {seed: {interval: float(np.mean(v)) for interval, v in sorted(by_interval.items())}
            for seed, by_interval in sums.items()}


def fas_over_seeds(
    curves: Mapping[int, Mapping[int, float]], intervals: Sequence[int], r_max: float, offset: float = 0.0
) -> tuple[float, float, list[float]]:
    """Mean and std (ddof=0, as the notebook's np.std) of FAS over the seeds whose curve
    covers every interval, and the mean curve R(l) over those seeds.

    Args:
        curves: {seed: {interval: R(l)}}.
        intervals: the decision intervals of the sweep, increasing.
        r_max: the return that counts as full marks.
        offset: added to every R(l).
    Returns:
        (mean FAS, its std over seeds, the mean R(l) at each interval).
    """
    complete = [curve for curve in curves.values() if all(interval in curve for interval in intervals)]
    if not complete:
        raise ValueError("no seed has returns at every decision interval yet")
    scores = [frequency_averaged_score(intervals, [c[interval] for interval in intervals], r_max, offset) for c in complete]
    mean_curve = [float(np.mean([c[interval] for c in complete])) for interval in intervals]
    return float(np.mean(scores)), float(np.std(scores)), mean_curve
