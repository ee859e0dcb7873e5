"""For simulators that build new space objects at every reset (highway-env, sumo-rl).

A space seeded before ``reset`` (as agents and tests do) would be silently replaced by an
unseeded one; this wrapper keeps the spaces made at construction, which describe the
same actions and observations.
"""

from __future__ import annotations

import gymnasium


class FixedSpaces(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    def __init__(self, env: gymnasium.Env):
        gymnasium.utils.RecordConstructorArgs.__init__(self)
        gymnasium.Wrapper.__init__(self, env)
        self.action_space = env.action_space
        self.observation_space = env.observation_space
        self.step = env.step  # steps go straight through
