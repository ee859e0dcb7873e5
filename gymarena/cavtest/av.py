"""The AV under test: a built-in driver model or any agent reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gymarena import versions
from gymarena.agents import BUILTIN_AGENTS, AgentSource, load_agent
from gymarena.envs.cav.builtin_avs import BUILTIN_AVS
from gymarena.envs.cav.env import lane_change_of
from gymarena.envs.cav.sim import Policy
from gymarena.errors import AgentLoadError

BUILTIN_PREFIX = "cav:"



def _builtin_factory(name: str) -> Callable[..., Any]:
    def refuse(task: Any, observation_space: Any, action_space: Any) -> Any:
        raise AgentLoadError(f"the built-in AV {name!r} drives in `gymarena cav test` only, not as an agent of tasks")

    return refuse


def av_source(reference: str) -> tuple[AgentSource, Callable[[Any], Policy]]:
    """The AV under test: a built-in (``idm``, ``cautious``, ``aggressive``, ``acc``) or an agent
    reference whose agent has ``act_batch(observations) -> (accelerations, lane_changes)``
    (fast) or ``act(observation) -> [acceleration, lane change]`` (called test by test)."""
    name = reference.removeprefix(BUILTIN_PREFIX)
    if name in BUILTIN_AVS:
        policy = BUILTIN_AVS[name]
        digest = versions.BUILTIN_AVS[name].identity_hash()
        from gymarena.agents import BUILTIN_AGENT_VERSION

        source = AgentSource(BUILTIN_PREFIX + name, name, BUILTIN_AGENT_VERSION, digest, _builtin_factory(name))
        return source, lambda task: policy
    if ":" not in reference and reference not in BUILTIN_AGENTS:
        from gymarena.tasks import suggest

        hints = suggest(name, list(BUILTIN_AVS))
        hint = f"did you mean {' or '.join(repr(h) for h in hints)}? " if hints else ""
        raise AgentLoadError(f"there is no built-in AV {name!r}: {hint}the built-ins are {', '.join(sorted(BUILTIN_AVS))}; "
                             f"or an agent: {', '.join(BUILTIN_AGENTS)}, package.module:attr or path/to/file.py:attr")
    return agent_av(load_agent(reference))


def agent_av(source: AgentSource) -> tuple[AgentSource, Callable[[Any], Policy]]:
    """An agent as the AV under test: its ``act_batch`` (or ``act``, test by test) drives,
    and every answer is checked before the simulator sees it (the agent may be anyone's)."""

    def policy_for(task) -> Policy:
        from gymarena.wrappers import make_local_env

        env = make_local_env(task)
        agent = source.factory(task, env.observation_space, env.action_space)
        env.close()
        # act_batch answers any rows of observations; an agent with reset_slot keeps state per
        # slot of batched play, which a batch of tests (rows ending one by one) is not
        if hasattr(agent, "act_batch") and not hasattr(agent, "reset_slot"):
            return lambda observations: checked_actions(agent.act_batch(observations), len(observations))

        def one_by_one(observations: np.ndarray):
            rows = []
            for row in observations:
                answer = agent.act(row)
                try:
                    rows.append(np.asarray(answer, dtype=float).reshape(-1))
                except (TypeError, ValueError):  # a string, a dict: the AV's fault, not the worker's
                    rows.append(np.zeros(0))
            if any(row.size < 2 for row in rows):
                raise AgentLoadError("the AV's act must return [acceleration, lane change], two numbers")
            actions = np.array([row[:2] for row in rows]).reshape(len(rows), 2)
            if not np.all(np.isfinite(actions)):
                raise AgentLoadError("the AV's act returned a number that is not finite")
            return actions[:, 0], np.array([lane_change_of(v) for v in actions[:, 1]], dtype=np.int64)

        return one_by_one

    return source, policy_for


def checked_actions(answer: Any, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """An AV's ``act_batch`` answer as (accelerations, lane changes), one per observation
    row: finite accelerations, lane changes -1, 0 or 1; else a one-line error. A stacked
    batch of the task's actions (rows of [acceleration, lane change], as batched play
    stacks them) is read as ``act``'s answers are."""
    if isinstance(answer, np.ndarray) and answer.ndim == 2 and answer.shape == (rows, 2):
        actions = answer.astype(float)
        if not np.all(np.isfinite(actions)):
            raise AgentLoadError("the AV's act_batch returned a number that is not finite")
        return actions[:, 0], np.array([lane_change_of(v) for v in actions[:, 1]], dtype=np.int64)
    try:
        accelerations, lane_changes = answer
        accelerations = np.asarray(accelerations, dtype=float).reshape(-1)
        lane_changes = np.asarray(lane_changes).reshape(-1)
    except (TypeError, ValueError):
        raise AgentLoadError("the AV's act_batch must return (accelerations, lane_changes), one of each per "
                             "observation row") from None
    if accelerations.shape != (rows,) or lane_changes.shape != (rows,):
        raise AgentLoadError(f"the AV's act_batch answered {accelerations.size} accelerations and {lane_changes.size} "
                             f"lane changes for {rows} observations")
    if not np.all(np.isfinite(accelerations)):
        raise AgentLoadError("the AV's act_batch returned an acceleration that is not finite")
    if lane_changes.dtype.kind not in "iub" and not np.all(np.isin(lane_changes, (-1.0, 0.0, 1.0))):
        raise AgentLoadError("the AV's act_batch returned lane changes other than -1, 0 and 1")
    lane_changes = lane_changes.astype(np.int64)
    if not np.all(np.isin(lane_changes, (-1, 0, 1))):
        raise AgentLoadError("the AV's act_batch returned lane changes other than -1, 0 and 1")
    return accelerations, lane_changes


