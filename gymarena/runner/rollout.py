"""One episode of one agent on one environment, with the action checked at every step."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from time import perf_counter
from typing import Any

import numpy as np
from gymnasium import spaces

from gymarena.errors import AgentError, InvalidActionError, SimulatorError, raised_at
from gymarena.protocol import episode_seed
from gymarena.records import EpisodeKey, EpisodeRecord
from gymarena.success import EpisodeOutcome, episode_succeeded
from gymarena.tasks import TaskSpec
from gymarena.wrappers.episode_metrics import episode_metrics

ActionCheck = Callable[[Any], bool]


def _box_check(space: spaces.Box) -> ActionCheck:
    # Box.contains rejects float64 actions for a float32 space; simulators accept them,
    # so only shape, finiteness and bounds decide here.
    low, high, shape = space.low, space.high, space.shape

    def check(action: Any) -> bool:
        if type(action) is np.ndarray and action.dtype.kind == "f" and action.shape == shape:
            array = action  # the common case: compared as it is (float32 widens exactly)
        else:
            try:
                array = np.asarray(action, dtype=float)
            except (TypeError, ValueError):
                return False
            if array.shape != shape:
                return False
        return bool((array >= low).all() and (array <= high).all())

    return check


_INTEGER_TYPES = frozenset({int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64})
_NOTHING_VALID: frozenset[Any] = frozenset()


def _discrete_check(space: spaces.Discrete) -> ActionCheck:
    valid = frozenset(range(int(space.start), int(space.start + space.n)))

    def check(action: Any) -> bool:
        if type(action) in _INTEGER_TYPES:  # the common case, answered with two hash lookups
            return action in valid
        return space.contains(action)

    check.valid = valid  # type: ignore[attr-defined]  # the step loop answers the common case inline
    return check


def action_check(space: spaces.Space) -> ActionCheck:
    """A fast membership test for an action space (Gymnasium's own for the rarer spaces)."""
    if isinstance(space, spaces.Discrete):
        return _discrete_check(space)
    if isinstance(space, spaces.Box):
        return _box_check(space)
    return space.contains


def agent_failed(agent_name: str, exc: BaseException, at: str) -> AgentError:
    """The error for an exception of the agent's own code ``at`` a place of the episode: its
    type, its text and the file and line it was raised at. An AgentError already says what
    the agent did (a sandboxed agent that broke a limit): it gets the place in the episode,
    never the frame of gymarena's own code that raised it."""
    if isinstance(exc, AgentError):
        return AgentError(f"agent {agent_name} {at}: {exc}")
    return AgentError(f"agent {agent_name} raised {type(exc).__name__} {at}: {exc}{raised_at(exc)}")


def where(task: TaskSpec, key: EpisodeKey, step: int) -> str:
    return f"{task.id} (seed {key.seed}, episode {key.episode}, step {step})"


def _decide(agent: Any, observation: Any, interval: int, where: Callable[[], str], agent_name: str) -> list[Any]:
    """The actions of one decision: ``interval`` primitive steps, open loop."""
    try:
        if interval > 1 and hasattr(agent, "act_sequence"):
            actions = list(agent.act_sequence(observation, interval))
            if len(actions) != interval:
                raise AgentError(
                    f"agent {agent_name} returned {len(actions)} actions from act_sequence on {where()}; "
                    f"the decision interval is {interval}"
                )
            return actions
        return [agent.act(observation)] * interval
    except AgentError:
        raise
    except Exception as exc:
        raise agent_failed(agent_name, exc, f"on {where()}") from exc


# What a loop hands back: return, last reward, steps, terminated, truncated, last info.
_Played = tuple[float, float, int, bool, bool, Any]


def invalid_action(env: Any, task: TaskSpec, key: EpisodeKey, step: int, action: Any, agent_name: str) -> InvalidActionError:
    return InvalidActionError(
        f"agent {agent_name} returned an action outside the action space on "
        f"{where(task, key, step)}: {_shown(action)} is not in {env.action_space}"
    )


def _shown(action: Any) -> str:
    """An action as the user wrote it: a numpy scalar as its number, not ``np.int64(7)``."""
    return repr(action.item()) if isinstance(action, np.generic) else repr(action)


def _closed_loop(
    env: Any, agent: Any, task: TaskSpec, key: EpisodeKey, check: ActionCheck, agent_name: str, observation: Any, info: Any
) -> _Played:
    """One action per observation: the per-step hot path, kept tight (a Discrete space's
    integer actions are checked inline, with no call)."""
    act, step_env = agent.act, env.step  # bound once
    valid, integer_types = getattr(check, "valid", _NOTHING_VALID), _INTEGER_TYPES
    total = reward = 0.0
    step = 0
    terminated = truncated = False
    while not (terminated or truncated):
        try:
            action = act(observation)
        except Exception as exc:
            raise agent_failed(agent_name, exc, f"on {where(task, key, step)}") from exc
        if not (type(action) in integer_types and action in valid) and not check(action):
            raise invalid_action(env, task, key, step, action, agent_name)
        try:
            observation, reward, terminated, truncated, info = step_env(action)
        except AgentError:  # raised by an agent's feedback hook (runner/trials.py)
            raise
        except Exception as exc:
            raise SimulatorError(f"{task.id} raised {type(exc).__name__} in step on {where(task, key, step)}: {exc}") from exc
        total += reward
        step += 1
    return total, reward, step, terminated, truncated, info


def _open_loop(
    env: Any, agent: Any, task: TaskSpec, key: EpisodeKey, check: ActionCheck, agent_name: str, observation: Any, info: Any
) -> _Played:
    """One decision per ``key.decision_interval`` steps; stops when the episode ends mid-sequence."""
    interval = key.decision_interval
    total = reward = 0.0
    step = 0
    terminated = truncated = False
    while not (terminated or truncated):
        for action in _decide(agent, observation, interval, partial(where, task, key, step), agent_name):
            if not check(action):
                raise invalid_action(env, task, key, step, action, agent_name)
            try:
                observation, reward, terminated, truncated, info = env.step(action)
            except Exception as exc:
                raise SimulatorError(f"{task.id} raised {type(exc).__name__} in step on {where(task, key, step)}: {exc}") from exc
            total += reward
            step += 1
            if terminated or truncated:
                break
    return total, reward, step, terminated, truncated, info


def reset_agent(agent: Any, seed: int, task: TaskSpec, key: EpisodeKey, agent_name: str, method: str = "reset") -> None:
    """Call the agent's ``reset`` (or another start hook) with a seed; its errors are the agent's."""
    try:
        getattr(agent, method)(seed=seed)
    except Exception as exc:
        raise agent_failed(agent_name, exc, f"in {method} on {where(task, key, 0)}") from exc


def reset_env(env: Any, seed: int | None, task: TaskSpec, key: EpisodeKey) -> tuple[Any, Any]:
    try:
        return env.reset(seed=seed)
    except Exception as exc:
        raise SimulatorError(f"{task.id} raised {type(exc).__name__} in reset "
                             f"(seed {key.seed}, episode {key.episode}): {exc}") from exc


def play_episode(
    env: Any,
    agent: Any,
    task: TaskSpec,
    key: EpisodeKey,
    check: ActionCheck,
    agent_name: str,
    observation: Any,
    info: Any,
) -> EpisodeRecord:
    """Play an episode from the observation its reset gave, and build its record: one
    action per step at decision interval 1, open-loop action sequences at l > 1.
    ``episode_seed`` and ``wall_seconds`` are filled in by the caller, who knows how the
    episode was reset.
    """
    start = perf_counter()
    loop = _closed_loop if key.decision_interval == 1 else _open_loop
    total, reward, step, terminated, truncated, info = loop(env, agent, task, key, check, agent_name, observation, info)
    return finished_record(task, key, 0, (total, reward, step, terminated, truncated, info), perf_counter() - start)


def finished_record(task: TaskSpec, key: EpisodeKey, seed: int, played: _Played, seconds: float) -> EpisodeRecord:
    """The record of an episode that ran to its end: ``played`` is (return, last reward,
    steps, terminated, truncated, last info), as the step loops hand it back."""
    total, reward, step, terminated, truncated, info = played
    outcome = EpisodeOutcome(float(total), float(reward), step, bool(terminated), bool(truncated), info)
    return EpisodeRecord(
        task_id=task.id, seed=key.seed, episode=key.episode, episode_seed=seed, episode_return=outcome.episode_return,
        length=step, success=episode_succeeded(task.success, outcome), terminated=outcome.terminated,
        truncated=outcome.truncated, env_steps=step, wall_seconds=seconds, extra=episode_metrics(info),
        decision_interval=key.decision_interval,
    )


def run_episode(
    env: Any,
    agent: Any,
    task: TaskSpec,
    key: EpisodeKey,
    check: ActionCheck,
    agent_name: str,
) -> EpisodeRecord:
    """Play one episode to termination or truncation and return its record.

    At decision interval l > 1 the agent observes once per l primitive steps and its
    actions run open loop; the episode stops when it ends mid-sequence (as the FAS
    reference evaluation does). Every interval of a sweep replays the same episode seeds.
    """
    seed = episode_seed(key.seed, key.episode)
    start = perf_counter()
    reset_agent(agent, seed, task, key, agent_name)
    observation, info = reset_env(env, seed, task, key)
    record = play_episode(env, agent, task, key, check, agent_name, observation, info)
    record.episode_seed = seed
    record.wall_seconds = perf_counter() - start
    return record


def crashed_record(key: EpisodeKey, seconds: float, cause: str) -> EpisodeRecord:
    """The record of an episode whose simulator process died: failed, with the cause."""
    return EpisodeRecord(
        task_id=key.task_id, seed=key.seed, episode=key.episode, episode_seed=episode_seed(key.seed, key.episode),
        episode_return=0.0, length=0, success=None, terminated=False, truncated=False, env_steps=0,
        wall_seconds=seconds, error=f"the simulator process died ({cause}) during this episode",
        decision_interval=key.decision_interval,
    )
