"""An Among-Us-style social deduction game with a discussion channel (PettingZoo API),
after the environment of Sarkar et al., "Training Language Models for Social Deduction
with Multi-Agent Reinforcement Learning" (AAMAS 2025)."""

from gymarena.envs.social_deduction.env import SocialDeductionEnv, aec_env, parallel_env
from gymarena.envs.social_deduction.rules import RewardWeights, Rules

__all__ = ["RewardWeights", "Rules", "SocialDeductionEnv", "aec_env", "parallel_env"]
