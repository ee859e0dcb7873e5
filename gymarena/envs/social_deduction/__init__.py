"""An Among-Us-style social deduction game with a discussion channel (PettingZoo API),
after the environment of Sarkar et al., "Training Language Models for Social Deduction
with Multi-Agent Reinforcement Learning" (AAMAS 2025)."""

import importlib.util

from gymarena.errors import MissingExtraError

# The game is a PettingZoo env (and env.py's source is in the protocol, so the check is here).
if importlib.util.find_spec("pettingzoo") is None:
    raise MissingExtraError("social", "social", "cannot import pettingzoo", what="deduction game's PettingZoo API")

from gymarena.envs.social_deduction.env import SocialDeductionEnv, aec_env, parallel_env
from gymarena.envs.social_deduction.rules import RewardWeights, Rules

__all__ = ["RewardWeights", "Rules", "SocialDeductionEnv", "aec_env", "parallel_env"]
