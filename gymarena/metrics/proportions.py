"""Intervals for proportions (a crash rate per test, a win rate per game)."""

from __future__ import annotations

import numpy as np


def wilson_interval(successes: float, n: int, z: float) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion (inside [0, 1] for any counts;
    Wilson 1927). ``successes`` may count a draw as half a success."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))
