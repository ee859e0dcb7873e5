"""Meta-World: the scripted expert policy the benchmark ships for each task
(``metaworld.policies.ENV_POLICY_MAP``), which reads the object and goal positions from
the observation and moves the gripper through hand-written waypoints."""

from __future__ import annotations

from typing import Any

import numpy as np

from gymarena.tasks import TaskSpec


class MetaWorldExpert:
    def __init__(self, task: TaskSpec):
        from metaworld.policies import ENV_POLICY_MAP

        policy_class: type[Any] = ENV_POLICY_MAP[task.env_id]  # a concrete policy (the map is typed by their base)
        self.policy = policy_class()

    def reset(self, seed: int | None = None) -> None:
        pass  # the policies are stateless and deterministic

    def act(self, observation: Any) -> np.ndarray:
        return np.clip(self.policy.get_action(observation), -1.0, 1.0).astype(np.float32)


def make_agent(task: TaskSpec, observation_space: Any, action_space: Any) -> MetaWorldExpert:
    return MetaWorldExpert(task)
