"""The AV under test: a built-in driver model or any agent reference."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from gymarena.agents import BUILTIN_AGENTS, AgentSource, load_agent
from gymarena.envs.cav import avs
from gymarena.envs.cav.env import lane_change_of
from gymarena.envs.cav.sim import Policy
from gymarena.errors import AgentLoadError

BUILTIN_PREFIX = "cav:"


def _builtin_factory(name: str) -> Callable[..., Any]:
    def refuse(task: Any, observation_space: Any, action_space: Any) -> Any:
        raise AgentLoadError(f"the built-in AV {name!r} drives in `gymarena cav test` only, not as an agent of tasks")

    return refuse


def av_source(reference: str) -> tuple[AgentSource, Callable[[Any], Policy]]:
    """The AV under test: a built-in (``idm``, ``cautious``, ``aggressive``) or an agent
    reference whose agent has ``act_batch(observations) -> (accelerations, lane_changes)``
    (fast) or ``act(observation) -> [acceleration, lane change]`` (called test by test)."""
    name = reference.removeprefix(BUILTIN_PREFIX)
    if name in avs.AVS:
        digest = hashlib.sha256(inspect.getsource(avs).encode()).hexdigest()
        from gymarena import __version__

        source = AgentSource(BUILTIN_PREFIX + name, name, __version__, digest, _builtin_factory(name))
        return source, lambda task: avs.AVS[name]
    if ":" not in reference and reference not in BUILTIN_AGENTS:
        from gymarena.tasks import suggest

        hints = suggest(name, list(avs.AVS))
        hint = f"did you mean {' or '.join(repr(h) for h in hints)}? " if hints else ""
        raise AgentLoadError(f"there is no built-in AV {name!r}: {hint}the built-ins are {', '.join(sorted(avs.AVS))}; "
                             f"or an agent: {', '.join(BUILTIN_AGENTS)}, package.module:attr or path/to/file.py:attr")
    source = load_agent(reference)

    def policy_for(task) -> Policy:
        from gymarena.wrappers import make_local_env

        env = make_local_env(task)
        agent = source.factory(task, env.observation_space, env.action_space)
        env.close()
        if hasattr(agent, "act_batch"):
            return lambda observations: agent.act_batch(observations)

        def one_by_one(observations: np.ndarray):
            actions = np.array([np.asarray(agent.act(row), dtype=float).reshape(-1)[:2] for row in observations])
            return actions[:, 0], np.array([lane_change_of(v) for v in actions[:, 1]])

        return one_by_one

    return source, policy_for


