"""Meta-RL trials: adaptation episodes, then evaluation episodes, on one task per trial.

A task with a ``trial`` (TaskSpec.trial) is played trial by trial. Each trial draws its
task by resetting the env with the trial's seed; the trial's later episodes reset it
without a seed, which keeps that task (the adapter's contract, e.g. Meta-World's ML
tasks keep their goal) while the env's random stream goes on. A trial runs whole on one
worker, so its episodes are reproducible from the trial seed alone.

An agent takes part in the trial protocol by defining, next to ``act``:

    begin_trial(seed)            a new task: forget what was adapted (instead of reset)
    begin_episode(adaptation)    optional: an episode starts; adaptation is True or False
    observe(reward, terminated, truncated)
                                 optional: feedback after each step of adaptation episodes

Its memory is never reset between the episodes of a trial. An agent without
``begin_trial`` is an ordinary agent: it is reset before every episode, as elsewhere.
Records carry the trial index and the phase; only evaluation episodes are scored.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from gymarena.protocol import episode_seed, unit_episode_keys
from gymarena.records import EpisodeKey, EpisodeRecord
from gymarena.runner.rollout import ActionCheck, agent_failed, play_episode, reset_agent, reset_env, where
from gymarena.tasks import TaskSpec

ADAPTATION, EVALUATION = "adaptation", "evaluation"


class _Feedback:
    """The env as the step loop sees it in adaptation episodes: each step's reward and
    end flags also go to the agent's ``observe``."""

    def __init__(self, env: Any, agent: Any, task: TaskSpec, key: EpisodeKey, agent_name: str):
        self.env, self.observe = env, agent.observe
        self.task, self.key, self.agent_name = task, key, agent_name
        self.action_space = env.action_space
        self.steps = 0

    def step(self, action: Any):
        result = self.env.step(action)
        self.steps += 1
        try:
            self.observe(result[1], result[2], result[3])
        except Exception as exc:
            raise agent_failed(self.agent_name, exc, f"in observe on {where(self.task, self.key, self.steps - 1)}") from exc
        return result


def _call(agent: Any, method: str, task: TaskSpec, key: EpisodeKey, agent_name: str, **kwargs: Any) -> None:
    try:
        getattr(agent, method)(**kwargs)
    except Exception as exc:
        raise agent_failed(agent_name, exc, f"in {method} on {where(task, key, 0)}") from exc


def run_trial(env: Any, agent: Any, task: TaskSpec, unit: EpisodeKey, check: ActionCheck, agent_name: str) -> list[EpisodeRecord]:
    """Play one trial (its adaptation, then its evaluation episodes) and return their records."""
    trial = task.trial
    if trial is None:
        raise ValueError(f"{task.id} is not played in trials")
    trial_index = unit.episode // trial.episodes
    trial_seed = episode_seed(unit.seed, unit.episode)
    meta = callable(getattr(agent, "begin_trial", None))
    if meta:
        reset_agent(agent, trial_seed, task, unit, agent_name, method="begin_trial")
    records = []
    for index, key in enumerate(unit_episode_keys(task, unit)):
        adapting = index < trial.adaptation
        start = perf_counter()
        if not meta:
            reset_agent(agent, episode_seed(key.seed, key.episode), task, key, agent_name)
        elif hasattr(agent, "begin_episode"):
            _call(agent, "begin_episode", task, key, agent_name, adaptation=adapting)
        observation, info = reset_env(env, trial_seed if index == 0 else None, task, key)
        stepped = _Feedback(env, agent, task, key, agent_name) if meta and adapting and hasattr(agent, "observe") else env
        record = play_episode(stepped, agent, task, key, check, agent_name, observation, info)
        record.episode_seed = trial_seed
        record.wall_seconds = perf_counter() - start
        record.trial, record.phase = trial_index, ADAPTATION if adapting else EVALUATION
        records.append(record)
    return records
