"""SUMO traffic signals: a fixed-time plan. Each green phase in turn for 30 s (six 5-s
decisions), whatever the traffic: the classic baseline that adaptive control must beat.
sumo-rl inserts the yellow phases and enforces minimum and maximum greens itself. On
multi-agent scenarios every signal runs its own plan, all starting together."""

from __future__ import annotations

from typing import Any

from gymarena.agents import PerAgent
from gymarena.tasks import TaskSpec

GREEN_DECISIONS = 6  # 30 s at sumo-rl's default delta_time of 5 s


class FixedTimePlan:
    def __init__(self, phases: int):
        self.phases = phases

    def reset(self, seed: int | None = None) -> None:
        self.decisions = 0

    def act(self, observation: Any) -> int:
        phase = (self.decisions // GREEN_DECISIONS) % self.phases
        self.decisions += 1
        return phase


def make_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> FixedTimePlan | PerAgent:
    if isinstance(action_space, dict):  # one plan per signal
        return PerAgent(action_space, lambda signal: FixedTimePlan(int(action_space[signal].n)))
    return FixedTimePlan(int(action_space.n))
