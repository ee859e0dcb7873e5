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
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from gymarena import provenance
from gymarena.baselines.training import policy_env
from gymarena.errors import GymarenaError, param
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
    """Train DQN online for ``transitions`` steps, write the five datasets, compute TQ and SACo.

    Each dataset is written as soon as it is collected, and the online run's policy and
    evaluations are kept beside them (:func:`online_dir`), so an interrupted run loses at
    most the piece it was making: run again with the same arguments, it keeps what is
    written (datasets made with other arguments are refused) and makes the rest, with the
    same data a run without interruption makes."""
    import time

    try:
        import minari
    except ImportError:
        raise GymarenaError("making datasets needs Minari with its creation extras: pip install 'gymarena[datasets]'") from None
    from gymarena.baselines.algorithms import recipe_for_task

    if transitions < 100:
        raise GymarenaError(f"{param('transitions')} must be at least 100, not {transitions}")
    task = get_task(task_id)
    recipe = recipe_for_task(task.id, "dqn")
    ids = dataset_ids(task, prefix)
    made = _already_made(minari, ids, task, transitions, seed)
    if made:
        say(f"continuing: {', '.join(ids[kind] for kind in KINDS if kind in made)} written before; making the rest")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    env = policy_env(task)
    env.action_space.seed(seed)
    try:
        # the collections run in one order whatever is kept, so each one's random draws are the same
        say(f"collecting random ({transitions:,} transitions)")
        random = collect(env, lambda _: env.action_space.sample(), transitions, first_seed=_first_seed(1, seed))
        write = _writer(minari, ids, made, env, task, recipe, seed, say)
        write("random", random, None)
        online = _online_run(task, recipe, transitions, seed, ids, "replay" in made, say)
        if online.replay is not None:  # trained in this call: its transitions, then its policy, are kept at once
            write("replay", online.replay, online)
            _keep(online, online_dir(ids, seed, transitions))

        def greedy(observation: Any) -> Any:
            return online.model.predict(observation, deterministic=True)[0]

        def noisy(observation: Any) -> Any:
            return env.action_space.sample() if rng.random() < NOISY_EPSILON else greedy(observation)

        expert: list[Episode] = []
        if "expert" not in made or "mixed" not in made:
            say(f"collecting expert ({transitions:,} transitions)")
            expert = collect(env, greedy, transitions, first_seed=_first_seed(2, seed))
        write("expert", expert, online)
        if "noisy" not in made:  # the last collection: nothing after it needs its draws
            say(f"collecting noisy ({transitions:,} transitions)")
            write("noisy", collect(env, noisy, transitions, first_seed=_first_seed(3, seed)), online)
        share = int(round(MIXED_RANDOM_SHARE * transitions))
        write("mixed", head(random, share) + tail(expert, transitions - share), online)
    finally:
        env.close()
    statistics = _statistics(ids, online.best)
    result = SuiteResult(task.id, transitions, ids, online.best, online.history, statistics,
                         time.perf_counter() - started)
    for kind in KINDS:
        minari.load_dataset(ids[kind]).storage.update_metadata({"gymarena_statistics": json.dumps(statistics[kind])})
    return result


def _first_seed(offset: int, seed: int) -> int:
    """The reset seed of the first episode of a collection (random 1, expert 2, noisy 3)."""
    return 1_000_000 * offset + seed * 10_000


def _already_made(minari: Any, ids: dict[str, str], task: TaskSpec, transitions: int, seed: int) -> set[str]:
    """The kinds written before by a run with these arguments; a dataset of another run under
    one of the ids is an error (nothing is overwritten)."""
    made, foreign = set(), []
    local = set(minari.list_local_datasets())
    for kind, dataset_id in ids.items():
        if dataset_id not in local:
            continue
        metadata = minari.load_dataset(dataset_id).storage.metadata
        online = json.loads(metadata.get("gymarena_online_run", "{}"))
        if (metadata.get("gymarena_task"), metadata.get("gymarena_dataset_kind"), online.get("seed"),
                online.get("transitions")) == (task.id, kind, seed, transitions):
            made.add(kind)
        else:
            foreign.append(dataset_id)
    if foreign:
        raise GymarenaError(f"datasets exist already: {', '.join(foreign)}, made with other arguments; remove them "
                            "(`minari delete ID`) or give --prefix")
    return made


@dataclass
class OnlineRun:
    """The online DQN run: its final policy, its greedy evaluations and (when it was trained
    in this call) every transition it made."""

    model: Any
    history: list[tuple[int, float]]
    args: Any
    replay: list[Episode] | None = None

    @property
    def best(self) -> float:
        return max(value for _, value in self.history)


def online_dir(ids: dict[str, str], seed: int, transitions: int) -> Path:
    """Where the online run's policy and evaluations are kept, beside the datasets."""
    from minari.storage import get_dataset_path

    return get_dataset_path(ids["replay"]).parent / f".gymarena-online-seed{seed}-{transitions}"


def _online_run(task: TaskSpec, recipe: Any, transitions: int, seed: int, ids: dict[str, str], replay_written: bool,
                say: Callable[[str], None]) -> OnlineRun:
    """Train the online run, or load the one a run with these arguments kept (kept only
    once its replay dataset was written)."""
    from gymarena.baselines.training import PROGRESS_SECONDS, algorithm_class, build_model, progress_callback

    kept = online_dir(ids, seed, transitions)
    if replay_written and (kept / "online.json").is_file():
        stored = json.loads((kept / "online.json").read_text())
        say(f"the online run of {recipe.name} was kept: loading it from {kept}")
        model = algorithm_class(recipe.algorithm).load(kept / "model.zip", device="cpu")
        return OnlineRun(model, [(int(step), float(value)) for step, value in stored["history"]], stored["args"])
    recorders: list[EpisodeRecorder] = []

    def record(env: gym.Env) -> EpisodeRecorder:
        recorders.append(EpisodeRecorder(env))
        return recorders[-1]

    model, args = build_model(recipe, seed, transitions, wrap=record)
    evaluation = OnlineEvaluation(task, every=max(1, transitions // ONLINE_EVALUATIONS))
    say(f"training {recipe.name} for {transitions:,} steps (the online run; its time left is shown as it goes)")
    progress = progress_callback(f"{recipe.name} online run", transitions, say, PROGRESS_SECONDS)
    model.learn(total_timesteps=transitions, callback=[evaluation.callback, progress])
    model.get_env().close()
    evaluation.evaluate(model)  # the final policy (learning may update it after the last periodic evaluation)
    say(f"online evaluations: {', '.join(f'{value:.4g}' for _, value in evaluation.history)}")
    # SB3 collects in rounds of train_freq steps and may overshoot: the replay is the first `transitions`.
    return OnlineRun(model, evaluation.history, dataclasses.asdict(args), head(recorders[0].episodes, transitions))


def _keep(online: OnlineRun, kept: Path) -> None:
    """Keep the online run's policy and evaluations for a run that continues this one."""
    kept.mkdir(parents=True, exist_ok=True)
    online.model.save(kept / "model.zip")
    (kept / "online.json").write_text(json.dumps({"history": online.history, "args": online.args}))


def _writer(minari: Any, ids: dict[str, str], made: set[str], env: gym.Env, task: TaskSpec, recipe: Any, seed: int,
            say: Callable[[str], None]) -> Callable[[str, list[Episode], OnlineRun | None], None]:
    """Write a kind's dataset at once, unless it was written before."""

    def write(kind: str, episodes: list[Episode], online: OnlineRun | None) -> None:
        if kind in made:
            return
        transitions = sum(len(e) for e in episodes)
        _write(minari, ids[kind], episodes, env, task, kind, recipe,
               {"args": online.args if online else None, "transitions": transitions, "seed": seed,
                "online_evaluations": online.history if online else None})
        say(f"wrote {ids[kind]}")

    return write


def _write(minari: Any, dataset_id: str, episodes: list[Episode], env: gym.Env, task: TaskSpec, kind: str,
           recipe: Any, online_run: dict[str, Any]) -> None:
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
        "gymarena_online_run": json.dumps({"recipe": recipe.name, **online_run}),
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
