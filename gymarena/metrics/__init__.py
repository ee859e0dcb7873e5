"""Statistics over evaluation results: pure functions, arrays in and numbers out."""

from gymarena.metrics.scores import (
    METRIC_DEFINITIONS,
    bootstrap_ci,
    mean_and_std,
    normalised_scores,
    success_rate,
)

__all__ = ["METRIC_DEFINITIONS", "bootstrap_ci", "mean_and_std", "normalised_scores", "success_rate"]
