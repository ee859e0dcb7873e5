"""Statistics over evaluation results: pure functions, arrays in and numbers out.

``scores`` (per-task returns, normalised scores, success rates), ``aggregate`` (rliable's
aggregates, stratified bootstrap, rank intervals), ``fas`` (Frequency-Averaged Score),
``dataset`` (TQ and SACo of offline datasets), ``efficiency`` (crash-rate estimation
efficiency). None imports a simulator, the store or the web code.
"""

from gymarena.metrics.scores import (
    METRIC_DEFINITIONS,
    bootstrap_ci,
    mean_and_std,
    normalised_scores,
    success_rate,
)

__all__ = ["METRIC_DEFINITIONS", "bootstrap_ci", "mean_and_std", "normalised_scores", "success_rate"]
