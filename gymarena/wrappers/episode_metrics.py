"""Family metrics on every episode record: a wrapper hands them over in the last step's info.

A family adapter wraps its env in a subclass of :class:`EpisodeMetrics` that watches the
steps it needs (most only look at the final observation and info) and, when an episode
ends, puts a dict of plain JSON values under ``info[METRICS_KEY]``. The runner stores that
dict as the episode record's ``extra``. Passing it through the info keeps the runner
ignorant of families, and works across process boundaries.
"""

from __future__ import annotations

from typing import Any

import gymnasium

from gymarena.success import METRICS_KEY


class EpisodeMetrics(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Base class: override :meth:`on_reset`, :meth:`on_step` (optional) and :meth:`summary`."""

    def __init__(self, env: gymnasium.Env):
        gymnasium.utils.RecordConstructorArgs.__init__(self)  # so Gymnasium can re-make the env from its spec
        gymnasium.Wrapper.__init__(self, env)

    def reset(self, **kwargs: Any):
        observation, info = self.env.reset(**kwargs)
        self.on_reset(observation, info)
        return observation, info

    def step(self, action: Any):
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.on_step(observation, float(reward), info)
        if terminated or truncated:
            info = {**info, METRICS_KEY: self.summary(observation, info, terminated, truncated)}
        return observation, reward, terminated, truncated, info

    def on_reset(self, observation: Any, info: dict[str, Any]) -> None:
        """Start counting for a new episode."""

    def on_step(self, observation: Any, reward: float, info: dict[str, Any]) -> None:
        """Accumulate what the summary needs (keep it cheap: it runs every step)."""

    def summary(self, observation: Any, info: dict[str, Any], terminated: bool, truncated: bool) -> dict[str, Any]:
        """The episode's metrics, JSON-ready (bool, int, float, str)."""
        raise NotImplementedError


def episode_metrics(info: Any) -> dict[str, Any]:
    """The metrics an ended episode's last info carries (empty for families without any)."""
    if isinstance(info, dict):
        metrics = info.get(METRICS_KEY)
        if isinstance(metrics, dict):
            return metrics
    return {}
