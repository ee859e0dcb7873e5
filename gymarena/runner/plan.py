"""What a run will do: the request as given, resolved into tasks, seeds and hashes."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from gymarena.agents import AgentSource, load_agent
from gymarena.errors import RunConfigError
from gymarena.metrics import METRIC_DEFINITIONS
from gymarena.records import EpisodeKey
from gymarena.results import RunInfo, TaskProtocol
from gymarena.runner.backends import BACKENDS
from gymarena.runner.trials import trial_episode_keys, trial_unit_keys
from gymarena.suites import load_suite
from gymarena.tasks import TaskSpec, canonical_json, get_task, protocol_hash
from gymarena.wrappers import family_of, simulator_versions

DEFAULT_SEEDS = (0, 1, 2, 3, 4)
_SEED_ITEM = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0-4"``, ``"0,3,7"`` or ``"0-4,10"`` as a tuple of distinct seeds in order."""
    seeds: list[int] = []
    for item in text.split(","):
        match = _SEED_ITEM.match(item)
        if match is None:
            raise RunConfigError(f"seeds {text!r}: {item.strip()!r} is not N or N-M (e.g. --seeds 0-4 or --seeds 0,3,7)")
        low = int(match[1])
        high = int(match[2]) if match[2] is not None else low
        if high < low:
            raise RunConfigError(f"seeds {text!r}: the range {item.strip()!r} is empty")
        seeds.extend(range(low, high + 1))
    if len(set(seeds)) != len(seeds):
        raise RunConfigError(f"seeds {text!r} repeat a seed")
    return tuple(seeds)


@dataclass(frozen=True)
class EvalRequest:
    """What a user asks for. ``resume`` continues a stored run; ``fresh`` never resumes."""

    suite: str | None = None
    tasks: tuple[str, ...] = ()
    agent: str = "random"
    seeds: tuple[int, ...] | None = None
    episodes: int | None = None
    workers: int = 1
    backend: str | None = None
    resume: int | None = None
    fresh: bool = False
    isolated: bool | None = None  # simulators in their family's runtime; None: isolated families only
    address: str | None = None  # the Ray cluster of the ray backend (auto, ray://host:port); None: a local one

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise RunConfigError(f"--workers must be at least 1, got {self.workers}")
        if self.episodes is not None and self.episodes < 1:
            raise RunConfigError(f"--episodes must be at least 1, got {self.episodes}")
        if self.backend is not None and self.backend not in BACKENDS:
            raise RunConfigError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.address is not None and self.backend != "ray":
            raise RunConfigError("--address names a Ray cluster: use it with --backend ray")
        if self.backend == "local" and self.workers > 1:
            raise RunConfigError("the local backend runs in one process; drop --workers or use --backend processes")
        if self.resume is not None:
            options = (("--suite", self.suite), ("--task", self.tasks), ("--agent", self.agent != "random"),
                       ("--seeds", self.seeds), ("--episodes", self.episodes))
            given = [name for name, value in options if value]
            if given:
                raise RunConfigError(f"--resume continues the run with its stored config; drop {', '.join(given)}")
        elif bool(self.suite) == bool(self.tasks):
            raise RunConfigError("give either --suite NAME or one or more --task ID")

    def backend_for(self, plan: RunPlan) -> str:
        """The backend asked for; else ``isolated`` if a task's simulator is crash-prone,
        else ``processes`` with several workers, else ``local``."""
        if self.backend:
            return self.backend
        if any(family_of(t.spec).crash_prone for t in plan.tasks):
            return "isolated"
        return "processes" if self.workers > 1 else "local"


@dataclass(frozen=True)
class PlannedTask:
    spec: TaskSpec
    seeds: tuple[int, ...]
    simulator_versions: dict[str, str] = field(hash=False)

    @cached_property
    def protocol_hash(self) -> str:
        return protocol_hash(self.spec, self.seeds, self.simulator_versions, METRIC_DEFINITIONS)

    def stored(self) -> TaskProtocol:
        return TaskProtocol(
            task_id=self.spec.id,
            protocol_hash=self.protocol_hash,
            spec=self.spec.to_json_dict(),
            seeds=list(self.seeds),
            episodes_per_seed=self.spec.episodes,
            simulator_versions=self.simulator_versions,
            metric_definitions=dict(METRIC_DEFINITIONS),
        )


@dataclass(frozen=True)
class RunPlan:
    tasks: tuple[PlannedTask, ...]
    seeds: tuple[int, ...]
    agent: AgentSource
    suite: str | None

    @cached_property
    def protocol_hash(self) -> str:
        """One hash for the whole run: its tasks' protocols, in order."""
        return run_protocol_hash(self.tasks)

    @cached_property
    def config_hash(self) -> str:
        """Identifies "the same evaluation again": protocol plus agent identity.

        Backend and worker count are left out: they do not change the records.
        """
        identity = {"protocol": self.protocol_hash, "agent": self.agent.reference, "code": self.agent.content_hash}
        return hashlib.sha256(canonical_json(identity).encode()).hexdigest()

    @property
    def specs(self) -> dict[str, TaskSpec]:
        return {t.spec.id: t.spec for t in self.tasks}

    def keys(self) -> list[EpisodeKey]:
        """Every unit of work of the run, task by task, seed by seed (and decision interval
        by decision interval in sweeps): fixed quotas per seed. A unit is one episode, or
        one whole trial on tasks played in trials (keyed by its first episode)."""
        units: list[EpisodeKey] = []
        for t in self.tasks:
            for seed in self.seeds:
                if t.spec.trial is not None:
                    units.extend(trial_unit_keys(t.spec, seed))
                    continue
                units.extend(
                    EpisodeKey(t.spec.id, seed, episode, interval)
                    for interval in t.spec.decision_intervals
                    for episode in range(t.spec.episodes)
                )
        return units

    def episode_keys(self, unit: EpisodeKey) -> list[EpisodeKey]:
        """The keys of the episode records a unit of work produces."""
        task = self.specs[unit.task_id]
        return trial_episode_keys(task, unit) if task.trial is not None else [unit]

    def missing(self, done: set[EpisodeKey]) -> tuple[list[EpisodeKey], int, int]:
        """(units to play, episodes already stored, episodes in the run) given the stored
        episode keys. A trial is played again unless every one of its episodes is stored."""
        todo, stored, total = [], 0, 0
        for unit in self.keys():
            episodes = self.episode_keys(unit)
            total += len(episodes)
            if all(key in done for key in episodes):
                stored += len(episodes)
            else:
                todo.append(unit)
        return todo, stored, total

    def config(self) -> dict[str, Any]:
        return {
            "agent": self.agent.reference,
            "suite": self.suite,
            "seeds": list(self.seeds),
            "tasks": [
                {"id": t.spec.id, "episodes": t.spec.episodes, "decision_intervals": list(t.spec.decision_intervals)}
                | ({"trial": dataclasses.asdict(t.spec.trial)} if t.spec.trial else {})
                for t in self.tasks
            ],
        }

    def simulator_packages(self) -> list[str]:
        return sorted({p for t in self.tasks for p in t.simulator_versions})


def task_episode_keys(spec: TaskSpec, seeds: tuple[int, ...]) -> list[EpisodeKey]:
    """The key of every episode record a complete run of this task holds."""
    keys: list[EpisodeKey] = []
    for seed in seeds:
        if spec.trial is not None:
            keys.extend(key for unit in trial_unit_keys(spec, seed) for key in trial_episode_keys(spec, unit))
        else:
            keys.extend(
                EpisodeKey(spec.id, seed, episode, interval)
                for interval in spec.decision_intervals
                for episode in range(spec.episodes)
            )
    return keys


def run_protocol_hash(tasks: tuple[PlannedTask, ...]) -> str:
    return hashlib.sha256(canonical_json([t.protocol_hash for t in tasks]).encode()).hexdigest()


def suite_protocol(suite: str, seeds: tuple[int, ...] | None = None) -> tuple[PlannedTask, ...]:
    """The protocol of a suite as installed here: its tasks and seeds (or ``seeds``, such
    as a leaderboard's hidden ones) under this machine's simulator versions."""
    loaded = load_suite(suite)
    return _planned(list(loaded.tasks), tuple(seeds) if seeds else loaded.seeds)


def _planned(specs: list[TaskSpec], seeds: tuple[int, ...]) -> tuple[PlannedTask, ...]:
    return tuple(PlannedTask(s, seeds, simulator_versions(family_of(s).name)) for s in specs)


def plan_request(request: EvalRequest, agent: AgentSource | None = None) -> RunPlan:
    """Resolve a new evaluation: suite or task ids, seeds, budget, agent (``request.agent``
    loaded, unless an already loaded ``agent`` is given, as the leaderboard worker does)."""
    if request.suite:
        suite = load_suite(request.suite)
        specs, seeds, label = list(suite.tasks), suite.seeds, suite.label
    else:
        specs, seeds, label = [get_task(t) for t in dict.fromkeys(request.tasks)], DEFAULT_SEEDS, None
    if request.episodes is not None:
        specs = [s.with_episodes(request.episodes) for s in specs]
    seeds = request.seeds or seeds
    for spec in specs:
        missing = family_of(spec).external_missing(how_to_install=True)
        if missing:
            raise RunConfigError(f"{spec.id} cannot run here: it {missing}")
    return RunPlan(_planned(specs, seeds), seeds, agent or load_agent(request.agent), label)


def plan_stored_run(run: RunInfo) -> RunPlan:
    """The plan of a stored run, checked against the code and simulators installed now."""
    agent = load_agent(run.agent.reference)
    if agent.content_hash != run.agent.content_hash:
        raise RunConfigError(
            f"run {run.id}: the code of agent {run.agent.reference!r} changed since the run started, "
            "so its episodes would not be comparable; start a new run (drop --resume)"
        )
    specs = [TaskSpec.from_json_dict(t.spec) for t in run.tasks]
    seeds = tuple(run.config["seeds"])
    plan = RunPlan(_planned(specs, seeds), seeds, agent, run.suite)
    for stored, planned in zip(run.tasks, plan.tasks, strict=True):
        if stored.protocol_hash != planned.protocol_hash:
            raise RunConfigError(
                f"run {run.id}: the protocol of {stored.task_id} changed since the run started "
                f"(simulator versions then {stored.simulator_versions}, now {planned.simulator_versions}); "
                "start a new run (drop --resume)"
            )
    return plan
