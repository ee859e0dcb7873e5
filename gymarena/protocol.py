"""The protocol: what a result's hash covers, and so what makes two results comparable.

A :class:`TaskProtocol` is one task under a seed set: its spec (the episode budget per seed,
the decision intervals and the trial layout are in it), the seeds, the metric definitions
and what fixes the simulator (package versions, ROM digest, game build, pinned clock). Its
``hash`` is stored with every result; two results share one exactly when they were made
under the same protocol. It also fixes which episodes a complete result holds
(:meth:`TaskProtocol.episode_keys`) and the seed each is reset with
(:meth:`TaskProtocol.episode_seed`), so runner, store, uploads checker and ranking
derive them in one way. A :class:`RunProtocol` is the ordered tasks of one run (a suite's,
or tasks named one by one); its hash covers theirs in order.

Both round-trip through JSON (:meth:`TaskProtocol.to_json`, :meth:`TaskProtocol.from_json`):
the form the store keeps and run documents carry. A document from outside is checked: its
hash must be the hash of its own fields.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from gymarena.errors import GymarenaError
from gymarena.records import EpisodeKey
from gymarena.seeding import REMEMBERED
from gymarena.tasks import TaskSpec


class ProtocolError(GymarenaError):
    """A protocol document that is malformed or whose hash does not match its fields."""


def canonical_json(value: Any) -> str:
    """The JSON text that hashes identically for equal values (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def digest(value: Any) -> str:
    """sha256 (hex) of a value's canonical JSON."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def episode_seed(seed: int, episode: int) -> int:
    """The reset seed of one episode: an independent stream per (seed, episode) via SeedSequence.

    Every episode is reproducible on its own, so episodes can run on any worker, in any
    order, and a resumed run reproduces exactly the episodes a clean run has. (Workers look
    up the seeds they computed in bulk first: gymarena/seeding.py, the same numbers.)
    """
    known = REMEMBERED.get((seed, episode))
    if known is not None:
        return known
    state = np.random.SeedSequence(seed, spawn_key=(episode,)).generate_state(1, np.uint32)
    return int(state[0])


def agent_seed(key: bytes, seed: int, task_id: str) -> int:
    """The seed a verified run's agent gets in place of an episode's seed: HMAC-SHA256 of
    the task and the seed under a key the agent never sees (the hidden seeds' salt), cut to
    31 bits.

    It seeds the agent's own randomness as well as any seed would, and is useless for
    rebuilding the episode: without the key, the episode seed cannot be computed from it.
    The task enters the HMAC, so the same episode seed gives a different agent seed in each
    task: what one task's episodes show tells nothing of another's. Once a suite's hidden
    seeds are revealed (with their salt), anyone can recompute it, so a verified run can
    then be replayed exactly."""
    mac = hmac.new(key, f"gymarena agent seed {task_id} {seed}".encode(), hashlib.sha256).digest()
    return int.from_bytes(mac[:4], "big") & 0x7FFFFFFF


def unit_episode_keys(spec: TaskSpec, unit: EpisodeKey) -> list[EpisodeKey]:
    """The keys of the records one unit of work produces: the episode itself, or every
    episode of the trial it starts."""
    if spec.trial is None:
        return [unit]
    return [EpisodeKey(unit.task_id, unit.seed, unit.episode + k) for k in range(spec.trial.episodes)]


def _version_difference(fact: str, theirs: str, mine: str) -> str:
    """One differing simulator fact in words ("social deduction game version 2 instead of
    version 1" for what gymarena ships, else the two values)."""
    from gymarena.versions import describe_fact

    name, their_value = describe_fact(fact, theirs)
    _, my_value = describe_fact(fact, mine)
    return f"{name} {their_value} instead of {my_value}"


@dataclass(frozen=True)
class TaskProtocol:
    """One task under its protocol: spec, seeds, metric definitions, simulator versions."""

    spec: TaskSpec
    seeds: tuple[int, ...]
    simulator_versions: Mapping[str, str] = field(default_factory=dict, hash=False)
    metric_definitions: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def task_id(self) -> str:
        return self.spec.id

    @property
    def episodes_per_seed(self) -> int:
        """Episodes (on trial tasks: trials) per seed, at each decision interval."""
        return self.spec.episodes

    @property
    def native_interval(self) -> int:
        """The decision interval the task's own scores are read at (the sweep's first)."""
        return self.spec.decision_intervals[0]

    @property
    def scored(self) -> bool:
        """Whether the task has score references, i.e. a normalised score."""
        return self.spec.scores is not None

    @cached_property
    def hash(self) -> str:
        """sha256 over the spec, the seed set, the episode budget, the metric definitions
        and the simulator's versions."""
        return digest({
            "task": self.spec.to_json_dict(),
            "seeds": sorted(self.seeds),
            "episodes_per_seed": self.spec.episodes,
            "metrics": dict(self.metric_definitions),
            "simulator": dict(self.simulator_versions),
        })

    # -- the episodes a complete result holds ----------------------------------------------

    def unit_keys(self) -> list[EpisodeKey]:
        """Every unit of work, seed by seed (and decision interval by interval in sweeps): one
        episode, or on trial tasks one whole trial, keyed by its first episode."""
        spec = self.spec
        if spec.trial is not None:
            size = spec.trial.episodes
            return [EpisodeKey(spec.id, seed, trial * size) for seed in self.seeds for trial in range(spec.episodes)]
        return [EpisodeKey(spec.id, seed, episode, interval)
                for seed in self.seeds for interval in spec.decision_intervals for episode in range(spec.episodes)]

    def unit_episode_keys(self, unit: EpisodeKey) -> list[EpisodeKey]:
        """The keys of the records one unit of work produces."""
        return unit_episode_keys(self.spec, unit)

    def episode_keys(self) -> list[EpisodeKey]:
        """The key of every episode record a complete result of this task holds."""
        return [key for unit in self.unit_keys() for key in self.unit_episode_keys(unit)]

    @property
    def expected_episodes(self) -> int:
        per_unit = self.spec.trial.episodes if self.spec.trial is not None else len(self.spec.decision_intervals)
        return len(self.seeds) * self.spec.episodes * per_unit

    def trial_start(self, episode: int) -> int:
        """The first episode of the unit an episode belongs to (itself, but in trials)."""
        return episode - episode % self.spec.trial.episodes if self.spec.trial is not None else episode

    def episode_seed(self, key: EpisodeKey) -> int:
        """The seed an episode's record carries: its own, or in trials the trial's (the env
        is reset with it at the trial's start and keeps its task through the trial)."""
        return episode_seed(key.seed, self.trial_start(key.episode))

    # -- comparing and storing --------------------------------------------------------------

    def differences(self, other: TaskProtocol) -> list[str]:
        """What ``other`` does differently, in words (empty when the hashes agree)."""
        if self.hash == other.hash:
            return []
        found, task_id = [], self.task_id
        if list(other.seeds) != list(self.seeds):
            found.append(f"{task_id}: seeds {list(other.seeds)} instead of {list(self.seeds)}")
        if other.episodes_per_seed != self.episodes_per_seed:
            found.append(f"{task_id}: {other.episodes_per_seed} episodes per seed instead of {self.episodes_per_seed}")
        mine, theirs = self.simulator_versions, other.simulator_versions
        versions = sorted(_version_difference(name, theirs.get(name, "missing"), mine.get(name, "missing"))
                          for name in set(mine) | set(theirs) if mine.get(name) != theirs.get(name))
        if versions:
            found.append(f"{task_id}: {', '.join(versions)}")
        a, b = self.spec.to_json_dict(), other.spec.to_json_dict()
        keys = sorted(k for k in set(a) | set(b) if k != "episodes" and a.get(k) != b.get(k))
        if keys:
            found.append(f"{task_id}: task definition differs in {', '.join(keys)}")
        if dict(self.metric_definitions) != dict(other.metric_definitions):
            found.append(f"{task_id}: metric definitions differ")
        return found

    def to_json(self) -> dict[str, Any]:
        """The stored form (what run documents carry): the hash beside its fields."""
        return {
            "task_id": self.task_id,
            "protocol_hash": self.hash,
            "spec": self.spec.to_json_dict(),
            "seeds": list(self.seeds),
            "episodes_per_seed": self.episodes_per_seed,
            "simulator_versions": dict(self.simulator_versions),
            "metric_definitions": dict(self.metric_definitions),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], trusted: bool = False) -> TaskProtocol:
        """The protocol of a stored form. Unless ``trusted`` (the store's own rows), the
        hash given must be the hash of the fields given, and the fields must agree."""
        try:
            spec = TaskSpec.from_json_dict(data["spec"])
            protocol = cls(spec, tuple(int(s) for s in data["seeds"]), dict(data["simulator_versions"]),
                           dict(data.get("metric_definitions") or {}))
            given = str(data["protocol_hash"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"a task protocol is malformed ({type(exc).__name__}: {exc})") from None
        if trusted:
            protocol.__dict__["hash"] = given  # the store's key for it: what the stored results carry
            return protocol
        if data.get("task_id", spec.id) != spec.id or data.get("episodes_per_seed", spec.episodes) != spec.episodes:
            raise ProtocolError(f"the protocol of {data.get('task_id')!r} names another task or budget than its spec")
        if given != protocol.hash:
            raise ProtocolError(f"the protocol hash of {spec.id} does not match its spec, seeds, budget, "
                                "metric definitions and simulator versions")
        return protocol


@dataclass(frozen=True)
class RunProtocol:
    """The ordered task protocols of one run."""

    tasks: tuple[TaskProtocol, ...]

    def __iter__(self) -> Iterator[TaskProtocol]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    @cached_property
    def hash(self) -> str:
        """One hash for the whole run: its tasks' protocol hashes, in order."""
        return digest([t.hash for t in self.tasks])

    @cached_property
    def _by_id(self) -> dict[str, TaskProtocol]:
        return {t.task_id: t for t in self.tasks}

    def task(self, task_id: str) -> TaskProtocol:
        return self._by_id[task_id]

    def get(self, task_id: str) -> TaskProtocol | None:
        return self._by_id.get(task_id)

    @property
    def task_ids(self) -> list[str]:
        return [t.task_id for t in self.tasks]

    @property
    def specs(self) -> dict[str, TaskSpec]:
        return {t.task_id: t.spec for t in self.tasks}

    @property
    def seeds(self) -> tuple[int, ...]:
        """The run's seed set (every task of a run shares it)."""
        return self.tasks[0].seeds if self.tasks else ()

    def simulator_packages(self) -> list[str]:
        return sorted({p for t in self.tasks for p in t.simulator_versions})

    def unit_keys(self) -> list[EpisodeKey]:
        """Every unit of work of the run, task by task (fixed quotas per seed)."""
        return [unit for t in self.tasks for unit in t.unit_keys()]

    def unit_episode_keys(self, unit: EpisodeKey) -> list[EpisodeKey]:
        return self.task(unit.task_id).unit_episode_keys(unit)

    def episode_keys(self) -> list[EpisodeKey]:
        return [key for t in self.tasks for key in t.episode_keys()]

    def missing(self, done: set[EpisodeKey]) -> tuple[list[EpisodeKey], int, int]:
        """(units to play, episodes already stored, episodes in the run) given the stored
        episode keys. A trial is played again unless every one of its episodes is stored."""
        todo: list[EpisodeKey] = []
        stored = total = 0
        for task in self.tasks:
            units = task.unit_keys()
            if task.spec.trial is None:  # a unit is its one episode
                left = [unit for unit in units if unit not in done] if done else units
                todo += left
                stored += len(units) - len(left)
                total += len(units)
                continue
            for unit in units:
                episodes = task.unit_episode_keys(unit)
                total += len(episodes)
                if all(key in done for key in episodes):
                    stored += len(episodes)
                else:
                    todo.append(unit)
        return todo, stored, total

    def differences(self, other: RunProtocol) -> list[str]:
        """What makes ``other`` differ from this protocol, in words (what the leaderboard
        shows for runs listed apart); empty when the hashes agree."""
        if self.hash == other.hash:
            return []
        found = []
        if missing := [t for t in self.task_ids if other.get(t) is None]:
            found.append(f"lacks tasks {', '.join(sorted(missing))}")
        if extra := [t for t in other.task_ids if self.get(t) is None]:
            found.append(f"has other tasks {', '.join(sorted(extra))}")
        for task in self.tasks:
            theirs = other.get(task.task_id)
            if theirs is not None:
                found.extend(task.differences(theirs))
        # Identical task lists with a different hash can only differ in task order.
        return found or ["the tasks come in another order"]

    def to_json(self) -> list[dict[str, Any]]:
        return [t.to_json() for t in self.tasks]

    @classmethod
    def from_json(cls, data: Sequence[Mapping[str, Any]], trusted: bool = False) -> RunProtocol:
        if not isinstance(data, Sequence) or isinstance(data, (str, bytes)):
            raise ProtocolError("a run protocol is a list of task protocols")
        return cls(tuple(TaskProtocol.from_json(t, trusted) for t in data))
