"""Success rules: when an ended episode counts as a success for its task.

A rule is a short string stored in the TaskSpec (and so in the protocol hash):
``none``, ``terminated``, ``info.KEY``, ``metrics.KEY`` or
``return|final_reward|length OP NUMBER``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Any

METRICS_KEY = "gymarena_metrics"  # where family metrics travel in the last info (wrappers/episode_metrics.py)

_COMPARISONS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
_RULE_PATTERN = re.compile(r"^(return|final_reward|length)\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)$")


@dataclass(frozen=True, slots=True)
class EpisodeOutcome:
    """What a success rule may look at when an episode ends."""

    episode_return: float
    final_reward: float
    length: int
    terminated: bool
    truncated: bool
    final_info: Mapping[str, Any]


SuccessTest = Callable[[EpisodeOutcome], "bool | None"]
_QUANTITIES = {
    "return": attrgetter("episode_return"),
    "final_reward": attrgetter("final_reward"),
    "length": attrgetter("length"),
}


@cache
def success_test(rule: str) -> SuccessTest:
    """Compile a success rule once into a test of an ended episode.

    Rules: ``none`` (the task defines no success: the test gives ``None``);
    ``terminated`` (ended by the env, not the time limit); ``info.KEY`` (the final
    info's KEY is truthy, as Meta-World's ``success``); ``metrics.KEY`` (the family
    metric KEY of the episode is truthy, see wrappers/episode_metrics.py); ``return >= X``,
    ``final_reward > X``, ``length < X`` and the other comparisons (>=, >, <=, <, ==).
    Raises ValueError for anything else.
    """
    if rule == "none":
        return lambda outcome: None
    if rule == "terminated":
        return lambda outcome: outcome.terminated and not outcome.truncated
    if rule.startswith("info.") and len(rule) > 5:
        key = rule[5:]
        return lambda outcome: bool(outcome.final_info.get(key, False))
    if rule.startswith("metrics.") and len(rule) > 8:
        key = rule[8:]
        return lambda outcome: bool(outcome.final_info.get(METRICS_KEY, {}).get(key, False))
    match = _RULE_PATTERN.match(rule)
    if match is None:
        raise ValueError(
            "a success rule: 'none', 'terminated', 'info.KEY', 'metrics.KEY', or "
            "'return|final_reward|length OP NUMBER' with OP one of >=, >, <=, <, =="
        )
    quantity, compare, threshold = _QUANTITIES[match[1]], _COMPARISONS[match[2]], float(match[3])
    return lambda outcome: bool(compare(quantity(outcome), threshold))


def check_success_rule(rule: str) -> None:
    """Raise ValueError unless ``rule`` is a success rule :func:`success_test` knows."""
    success_test(rule)


def episode_succeeded(rule: str, outcome: EpisodeOutcome) -> bool | None:
    """Whether an ended episode succeeded under ``rule`` (None: the task defines no success)."""
    return success_test(rule)(outcome)
