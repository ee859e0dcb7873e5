"""One episode of a multi-agent task: a PettingZoo parallel env and an agent that acts
for every agent id at once.

The agent gets the observations of the agents still playing and returns one action for
each of them. The episode ends when the env has no agents left or after the task's
``max_episode_steps`` parallel steps (truncated). Its return is the sum over agents (the
team's return); ``agent_returns`` keeps each agent's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter
from typing import Any

from gymarena.errors import InvalidActionError, SimulatorError
from gymarena.protocol import episode_seed
from gymarena.records import EpisodeKey, EpisodeRecord
from gymarena.runner.rollout import ActionCheck, action_check, agent_failed, reset_agent, reset_env, where
from gymarena.success import METRICS_KEY, EpisodeOutcome, episode_succeeded
from gymarena.tasks import TaskSpec
from gymarena.wrappers.episode_metrics import episode_metrics


def agent_spaces(env: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(observation spaces, action spaces) of a parallel env, keyed by agent id."""
    agents = env.possible_agents
    return {a: env.observation_space(a) for a in agents}, {a: env.action_space(a) for a in agents}


def action_checks(action_spaces: Mapping[str, Any]) -> dict[str, ActionCheck]:
    return {agent: action_check(space) for agent, space in action_spaces.items()}


def _checked_actions(
    actions: Any, living: list[str], checks: Mapping[str, ActionCheck], env: Any, at: str, agent_name: str
) -> Any:
    if not isinstance(actions, Mapping):
        raise InvalidActionError(
            f"agent {agent_name} returned a {type(actions).__name__} on {at}; a multi-agent task needs a dict "
            f"of actions keyed by agent id ({', '.join(living)})"
        )
    missing = [a for a in living if a not in actions]
    unknown = [a for a in actions if a not in checks or a not in living]
    if missing or unknown:
        parts = ([f"no action for {', '.join(missing)}"] if missing else []) + (
            [f"actions for {', '.join(map(str, unknown))}, who are not playing"] if unknown else []
        )
        raise InvalidActionError(f"agent {agent_name} returned {' and '.join(parts)} on {at}")
    for agent in living:
        if not checks[agent](actions[agent]):
            raise InvalidActionError(
                f"agent {agent_name} returned an action outside {agent}'s action space on {at}: "
                f"{actions[agent]!r} is not in {env.action_space(agent)}"
            )
    return actions


def _final_info(infos: Mapping[str, Any]) -> dict[str, Any]:
    """The info that carries the episode's metrics (adapters put them in every agent's)."""
    for info in infos.values():
        if isinstance(info, dict) and METRICS_KEY in info:
            return info
    return {}


def run_parallel_episode(
    env: Any, agent: Any, task: TaskSpec, key: EpisodeKey, checks: Mapping[str, ActionCheck], agent_name: str
) -> EpisodeRecord:
    """Play one multi-agent episode and return its record (per-agent returns included)."""
    seed = episode_seed(key.seed, key.episode)
    start = perf_counter()
    reset_agent(agent, seed, task, key, agent_name)
    observations, infos = reset_env(env, seed, task, key)
    returns = dict.fromkeys(env.agents, 0.0)
    rewards: dict[str, float] = {}
    terminations: dict[str, bool] = {}
    truncations: dict[str, bool] = {}
    limit = task.max_episode_steps
    step = 0
    while env.agents and (limit is None or step < limit):
        at = where(task, key, step)
        try:
            actions = agent.act(observations)
        except Exception as exc:
            raise agent_failed(agent_name, exc, f"on {at}") from exc
        actions = _checked_actions(actions, list(env.agents), checks, env, at, agent_name)
        try:
            observations, rewards, terminations, truncations, infos = env.step(actions)
        except Exception as exc:
            raise SimulatorError(f"{task.id} raised {type(exc).__name__} in step on {at}: {exc}") from exc
        for name, reward in rewards.items():
            returns[name] = returns.get(name, 0.0) + float(reward)
        step += 1
    cut_short = bool(env.agents)  # the step limit ended the episode
    terminated = not cut_short and any(terminations.values())
    truncated = cut_short or any(truncations.values())
    info = _final_info(infos)
    total = sum(returns.values())
    outcome = EpisodeOutcome(float(total), float(sum(rewards.values())), step, terminated, truncated, info)
    return EpisodeRecord(
        task_id=task.id,
        seed=key.seed,
        episode=key.episode,
        episode_seed=seed,
        episode_return=outcome.episode_return,
        length=step,
        success=episode_succeeded(task.success, outcome),
        terminated=terminated,
        truncated=truncated,
        env_steps=step,
        wall_seconds=perf_counter() - start,
        agent_returns=returns,
        extra=episode_metrics(info),
    )
