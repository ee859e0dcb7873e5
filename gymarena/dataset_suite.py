"""``gymarena dataset make-suite``: the five datasets of Schweighofer et al. from one online
DQN run, and their TQ and SACo.

"A Dataset Perspective on Offline Reinforcement Learning" (CoLLAs 2022) compares offline
datasets of one task that differ only in how they were collected:

- random: a uniformly random policy;
- expert: the final greedy policy of the online DQN run;
- noisy: that policy, epsilon-greedy with epsilon 0.2;
- replay: every transition of the online run (its whole replay buffer);
- mixed: the first 80% of the random dataset's transitions and the last 20% of the expert's.

Each holds ``transitions`` transitions (the online run trains for as many), recorded on the
task's env seen as the policy sees it (:func:`~gymarena.baselines.observations.policy_view`:
MiniGrid's flattened 7x7 view). TQ's reference is the best greedy evaluation during the
online run (10 episodes at each of 10 points and of the final policy), SACo's is the
replay dataset. An episode cut
by the transition budget is kept as a partial episode (counted for coverage, not for returns).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from gymarena import provenance
from gymarena.errors import GymarenaError
from gymarena.tasks import TaskSpec, get_task

KINDS = ("random", "mixed", "replay", "noisy", "expert")
NOISY_EPSILON = 0.2
MIXED_RANDOM_SHARE = 0.8
ONLINE_EVALUATIONS = 10


@dataclass
class Episode:
    """One (possibly partial) episode's arrays: observations has one row more than actions."""

    observations: list[Any] = field(default_factory=list)
    actions: list[Any] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    terminations: list[bool] = field(default_factory=list)
    truncations: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rewards)

    def add(self, action: Any, observation: Any, reward: float, terminated: bool, truncated: bool) -> None:
        self.actions.append(action)
        self.observations.append(observation)
        self.rewards.append(float(reward))
        self.terminations.append(bool(terminated))
        self.truncations.append(bool(truncated))

    def cut(self, start: int, stop: int) -> Episode:
        """Steps ``start:stop``; a cut end is neither terminated nor truncated."""
        return Episode(self.observations[start:stop + 1], self.actions[start:stop], self.rewards[start:stop],
                       self.terminations[start:stop], self.truncations[start:stop])


class EpisodeRecorder(gym.Wrapper):
    """Keeps every transition made through it, episode by episode (the replay dataset)."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.episodes: list[Episode] = []

    def reset(self, **kwargs: Any):
        observation, info = self.env.reset(**kwargs)
        if self.episodes and not self.episodes[-1].rewards:
            self.episodes.pop()
        self.episodes.append(Episode([observation]))
        return observation, info

    def step(self, action: Any):
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.episodes[-1].add(action, observation, float(reward), terminated, truncated)
        return observation, reward, terminated, truncated, info


def collect(env: gym.Env, policy: Callable[[Any], Any], transitions: int, first_seed: int) -> list[Episode]:
    """Exactly ``transitions`` transitions of ``policy``; episode i is reset with ``first_seed + i``."""
    episodes: list[Episode] = []
    steps = 0
    while steps < transitions:
        observation, _ = env.reset(seed=first_seed + len(episodes))
        episode = Episode([observation])
        done = False
        while not done and steps < transitions:
            action = policy(observation)
            observation, reward, terminated, truncated, _ = env.step(action)
            episode.add(action, observation, float(reward), terminated, truncated)
            steps += 1
            done = terminated or truncated
        episodes.append(episode)
    return episodes


def head(episodes: list[Episode], transitions: int) -> list[Episode]:
    """The first ``transitions`` transitions."""
    kept, left = [], transitions
    for episode in episodes:
        if left <= 0:
            break
        kept.append(episode if len(episode) <= left else episode.cut(0, left))
        left -= len(kept[-1])
    return kept


def tail(episodes: list[Episode], transitions: int) -> list[Episode]:
    """The last ``transitions`` transitions."""
    kept, left = [], transitions
    for episode in reversed(episodes):
        if left <= 0:
            break
        kept.append(episode if len(episode) <= left else episode.cut(len(episode) - left, len(episode)))
        left -= len(kept[-1])
    return kept[::-1]


class OnlineEvaluation:
    """Greedy evaluations of the online run: every ``every`` steps (an SB3 callback) and of
    the final policy; keeps the best mean return."""

    def __init__(self, task: TaskSpec, every: int):
        from stable_baselines3.common.callbacks import BaseCallback

        self.task = task
        self.history: list[tuple[int, float]] = []
        evaluate = self.evaluate

        class Callback(BaseCallback):
            def _on_step(self) -> bool:
                if self.num_timesteps % every == 0:
                    evaluate(self.model)
                return True

        self.callback = Callback()

    def evaluate(self, model: Any) -> None:
        from gymarena.baselines.training import EVALUATION_SEEDS, greedy_return

        self.history.append((model.num_timesteps, greedy_return(model, self.task, EVALUATION_SEEDS)))

    @property
    def best(self) -> float:
        return max(value for _, value in self.history)


@dataclass(frozen=True)
class SuiteResult:
    """The datasets written and their statistics (one row per kind)."""

    task: str
    transitions: int
    dataset_ids: dict[str, str]
    online_best_return: float
    online_history: list[tuple[int, float]]
    statistics: dict[str, dict[str, Any]]
    wall_seconds: float


def dataset_ids(task: TaskSpec, prefix: str | None) -> dict[str, str]:
    """Minari ids of the five datasets: ``PREFIX/KIND-v0``, the prefix by default the task's name."""
    prefix = prefix or task.id.split("/", 1)[1].lower().replace(".", "-")
    return {kind: f"{prefix}/{kind}-v0" for kind in KINDS}


def make_suite(task_id: str, transitions: int, seed: int = 0, prefix: str | None = None,
               say: Callable[[str], None] = print) -> SuiteResult:
    """Train DQN online for ``transitions`` steps, write the five datasets, compute TQ and SACo."""
    import time

    try:
        import minari
    except ImportError:
        raise GymarenaError("making datasets needs Minari with its creation extras: pip install 'gymarena[datasets]'") from None
    from gymarena.baselines.algorithms import recipe_for_task
    from gymarena.baselines.training import PROGRESS_SECONDS, build_model, policy_env, progress_callback

    if transitions < 100:
        raise GymarenaError(f"--transitions must be at least 100, not {transitions}")
    task = get_task(task_id)
    recipe = recipe_for_task(task.id, "dqn")
    ids = dataset_ids(task, prefix)
    taken = [i for i in ids.values() if i in minari.list_local_datasets()]
    if taken:
        raise GymarenaError(f"datasets exist already: {', '.join(taken)}; remove them (`minari delete ID`) or give --prefix")

    started = time.perf_counter()
    recorders: list[EpisodeRecorder] = []

    def record(env: gym.Env) -> EpisodeRecorder:
        recorders.append(EpisodeRecorder(env))
        return recorders[-1]

    model, args = build_model(recipe, seed, transitions, wrap=record)
    evaluation = OnlineEvaluation(task, every=max(1, transitions // ONLINE_EVALUATIONS))
    say(f"training {recipe.name} for {transitions} steps")
    progress = progress_callback(f"{recipe.name} online run", transitions, say, PROGRESS_SECONDS)
    model.learn(total_timesteps=transitions, callback=[evaluation.callback, progress])
    model.get_env().close()
    evaluation.evaluate(model)  # the final policy (learning may update it after the last periodic evaluation)
    say(f"online evaluations: {', '.join(f'{value:.4g}' for _, value in evaluation.history)}")

    def greedy(observation: Any) -> Any:
        return model.predict(observation, deterministic=True)[0]

    rng = np.random.default_rng(seed)
    env = policy_env(task)
    env.action_space.seed(seed)

    def noisy(observation: Any) -> Any:
        return env.action_space.sample() if rng.random() < NOISY_EPSILON else greedy(observation)

    try:
        # SB3 collects in rounds of train_freq steps and may overshoot: the replay is the first `transitions`.
        episodes = {"replay": head(recorders[0].episodes, transitions)}
        for offset, (kind, policy) in enumerate((("random", lambda _: env.action_space.sample()),
                                                 ("expert", greedy), ("noisy", noisy)), start=1):
            say(f"collecting {kind}")
            episodes[kind] = collect(env, policy, transitions, first_seed=1_000_000 * offset + seed * 10_000)
        share = int(round(MIXED_RANDOM_SHARE * transitions))
        episodes["mixed"] = head(episodes["random"], share) + tail(episodes["expert"], transitions - share)
        for kind in KINDS:
            _write(minari, ids[kind], episodes[kind], env, task, kind, recipe, args, seed, evaluation)
    finally:
        env.close()
    statistics = _statistics(ids, evaluation.best)
    result = SuiteResult(task.id, transitions, ids, evaluation.best, evaluation.history, statistics,
                         time.perf_counter() - started)
    for kind in KINDS:
        minari.load_dataset(ids[kind]).storage.update_metadata({"gymarena_statistics": json.dumps(statistics[kind])})
    return result


def _write(minari: Any, dataset_id: str, episodes: list[Episode], env: gym.Env, task: TaskSpec, kind: str,
           recipe: Any, args: Any, seed: int, evaluation: OnlineEvaluation) -> None:
    from minari.data_collector import EpisodeBuffer

    from gymarena.wrappers import family_of, simulator_versions

    buffers = [EpisodeBuffer(id=i, observations=np.asarray(e.observations), actions=np.asarray(e.actions),
                             rewards=e.rewards, terminations=e.terminations, truncations=e.truncations, infos={})
               for i, e in enumerate(episodes) if len(e)]
    with warnings.catch_warnings():  # no env spec or eval env: the task id in the metadata says how to make the env
        warnings.simplefilter("ignore", UserWarning)
        dataset = minari.create_dataset_from_buffers(
            dataset_id, buffers, observation_space=env.observation_space, action_space=env.action_space,
            algorithm_name=f"{recipe.name} ({kind})",
            description=f"The {kind} dataset of {task.id} (Schweighofer et al. 2022), made by gymarena dataset make-suite",
        )
    dataset.storage.update_metadata({
        "gymarena_task": task.id,
        "gymarena_dataset_kind": kind,
        "gymarena_online_run": json.dumps({"recipe": recipe.name, "args": dataclasses.asdict(args), "seed": seed,
                                           "online_evaluations": evaluation.history}),
        "gymarena_provenance": json.dumps(provenance.collect(sorted(simulator_versions(family_of(task).name)))),
    })


def _statistics(ids: dict[str, str], online_best: float) -> dict[str, dict[str, Any]]:
    """TQ and SACo of each dataset, read back as ``gymarena dataset stats`` reads them."""
    from gymarena.datasets import read_minari
    from gymarena.metrics.dataset import dataset_statistics

    data = {kind: read_minari(dataset_id) for kind, dataset_id in ids.items()}
    try:
        return {kind: dataset_statistics(data[kind], data["replay"], data["random"], online_best).to_dict() for kind in KINDS}
    except ValueError as exc:  # TQ is undefined when the online run never did better than random
        raise GymarenaError(f"the datasets are written ({', '.join(ids.values())}), but their TQ is undefined: {exc}; "
                            "the online run learned nothing in this budget: give more --transitions") from None
