"""Wrappers that change only what happens at reset: steps go straight to the env.

``ResetOnlyWrapper`` binds ``step`` to the wrapped env's (no extra Python frame on the
per-step path) and records its constructor arguments, so Gymnasium can re-make the env
from its spec. Adapters subclass it to seed simulators their own way.
"""

from __future__ import annotations

from typing import Any

import gymnasium


class ResetOnlyWrapper(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    def __init__(self, env: gymnasium.Env, **recorded: Any):
        gymnasium.utils.RecordConstructorArgs.__init__(self, **recorded)
        gymnasium.Wrapper.__init__(self, env)
        self.step = env.step  # type: ignore[method-assign]  # the wrapped env's own, bound once


class FixedSpaces(ResetOnlyWrapper):
    """For simulators that build new space objects at every reset (highway-env, sumo-rl).

    A space seeded before ``reset`` (as agents and tests do) would be silently replaced
    by an unseeded one; this keeps the spaces made at construction, which describe the
    same actions and observations.
    """

    def __init__(self, env: gymnasium.Env):
        super().__init__(env)
        self.action_space = env.action_space
        self.observation_space = env.observation_space
