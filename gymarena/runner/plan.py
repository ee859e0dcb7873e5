"""What a run will do: the request as given, resolved into tasks, seeds and hashes."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gymarena.agents import AgentSource, load_agent
from gymarena.devices import check_device
from gymarena.errors import AgentLoadError, GymarenaError, RunConfigError, param, raised_at
from gymarena.installed import installed_protocol
from gymarena.protocol import RunProtocol
from gymarena.records import AlgorithmIdentity
from gymarena.runner.backends import BACKENDS, PlayOptions
from gymarena.runner.batched import unbatched_reason
from gymarena.runner.deadlines import DEFAULT_DEADLINES, Deadlines
from gymarena.runner.isolated import ISOLATED_UNBATCHED
from gymarena.suites import load_suite
from gymarena.tasks import get_task
from gymarena.wrappers import family_of

if TYPE_CHECKING:
    from gymarena.results import RunInfo

DEFAULT_SEEDS = (0, 1, 2, 3, 4)
_SEED_ITEM = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


MAX_SEEDS = 10_000  # per run: more is a typo (and would be a huge run before its first episode)
MAX_SEED = 2**32 - 1  # what numpy and the simulators take as a seed
MAX_BATCH = 1024  # slots per worker: more is a typo (each slot holds an env)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0-4"``, ``"0,3,7"`` or ``"0-4,10"`` as a tuple of distinct seeds in order; at most
    MAX_SEEDS of them, each at most MAX_SEED, checked before any list is built."""
    if not text.strip():
        raise RunConfigError(f"{param('seeds')} is empty: give seeds such as 0-4 or 0,3,7, or leave it out for the defaults")
    items: list[tuple[int, int, str]] = []
    for item in text.split(","):
        match = _SEED_ITEM.match(item)
        if match is None:
            raise RunConfigError(f"seeds {text!r}: {item.strip()!r} is not N or N-M "
                                 f"(e.g. {param('seeds')} 0-4 or {param('seeds')} 0,3,7)")
        if any(len(digits) > 20 for digits in match.groups() if digits):
            raise RunConfigError(f"seeds {text[:80]!r}: a seed is over the largest seed, {MAX_SEED:,}")
        low = int(match[1])
        high = int(match[2]) if match[2] is not None else low
        if high < low:
            raise RunConfigError(f"seeds {text[:80]!r}: the range {item.strip()[:60]!r} is empty")
        if high > MAX_SEED:
            raise RunConfigError(f"seeds {text[:80]!r}: {high} is over the largest seed, {MAX_SEED:,}")
        items.append((low, high, item.strip()))
    count = sum(high - low + 1 for low, high, _ in items)
    if count > MAX_SEEDS:
        raise RunConfigError(f"seeds {text[:80]!r} are {count:,} seeds, over the limit of {MAX_SEEDS:,} per run "
                             f"(a typo? e.g. {param('seeds')} 0-4)")
    seeds: list[int] = []
    for low, high, _ in items:
        seeds.extend(range(low, high + 1))
    if len(set(seeds)) != len(seeds):
        raise RunConfigError(f"seeds {text!r} repeat a seed")
    return tuple(seeds)


def parse_algorithm(text: str) -> AlgorithmIdentity:
    """``--algorithm NAME[@VERSION]``: the algorithm a checkpoint is one training run of."""
    name, _, version = text.partition("@")
    if not re.fullmatch(r"[\w.+-][\w .+-]{0,199}", name.strip()) or len(version) > 200:
        raise RunConfigError(f"{param('algorithm')} is NAME or NAME@VERSION (letters, digits, . _ + -), not {text!r}")
    return AlgorithmIdentity(name.strip(), version.strip())


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
    batch: int = 1  # episodes of a task played in lockstep per worker (runner/batched.py)
    device: str | None = None  # torch device of agents that take one: cpu, cuda[:N], auto
    algorithm: AlgorithmIdentity | None = None  # the agent is one trained checkpoint of it (--algorithm)
    deadlines: Deadlines = DEFAULT_DEADLINES  # how long one step and one episode may take (--step-seconds, --episode-seconds)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise RunConfigError(f"{param('workers')} must be at least 1, got {self.workers}")
        if not 1 <= self.batch <= MAX_BATCH:
            raise RunConfigError(f"{param('batch')} must be between 1 and {MAX_BATCH:,}, got {self.batch}")
        if self.batch > 1 and self.backend == "isolated":
            raise RunConfigError(ISOLATED_UNBATCHED)
        if self.device is not None:
            check_device(self.device)
        if self.episodes is not None and self.episodes < 1:
            raise RunConfigError(f"{param('episodes')} must be at least 1, got {self.episodes}")
        if self.backend is not None and self.backend not in BACKENDS:
            raise RunConfigError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.address is not None and self.backend != "ray":
            raise RunConfigError(f"{param('address')} names a Ray cluster: use it with {param('backend')} ray")
        if self.backend == "local" and self.workers > 1:
            raise RunConfigError(f"the local backend runs in one process; drop {param('workers')} "
                                 f"or use {param('backend')} processes")
        if self.resume is not None:
            options = (("suite", self.suite), ("tasks", self.tasks), ("agent", self.agent != "random"),
                       ("seeds", self.seeds), ("episodes", self.episodes), ("algorithm", self.algorithm))
            given = [param(name) for name, value in options if value]
            if given:
                raise RunConfigError(f"{param('resume')} continues the run with its stored config; drop {', '.join(given)}")
        elif bool(self.suite) == bool(self.tasks):
            raise RunConfigError(f"give either {param('suite')} NAME or one or more {param('tasks')} ID")
        for task_id in self.tasks:  # a mistyped task says so before any database is opened (or made)
            get_task(task_id)

    def backend_for(self, plan: RunPlan) -> str:
        """The backend asked for; else ``isolated`` if a task's simulator is crash-prone,
        else ``processes`` with several workers, else ``local``."""
        if self.backend:
            return self.backend
        crash_prone = sorted({t.spec.family for t in plan.protocol if family_of(t.spec).crash_prone})
        if crash_prone:
            if self.batch > 1:
                raise RunConfigError(f"{', '.join(crash_prone)} tasks run on the isolated backend by default, and "
                                     + ISOLATED_UNBATCHED.replace("the isolated backend", "it", 1))
            return "isolated"
        return "processes" if self.workers > 1 else "local"

    def play_options(self) -> PlayOptions:
        """How the workers play this request's episodes."""
        return PlayOptions(isolated=self.isolated, batch=self.batch, device=self.device, deadlines=self.deadlines)


@dataclass(frozen=True)
class RunPlan:
    """A resolved evaluation: the run's protocol, the agent, and the suite label (if any)."""

    protocol: RunProtocol
    agent: AgentSource
    suite: str | None
    algorithm: AlgorithmIdentity | None = None  # what the agent is one training run of

    def unbatched(self) -> dict[str, str]:
        """Task id -> why ``--batch`` plays (some of) its episodes one at a time."""
        reasons = {}
        for task in self.protocol:
            reason = unbatched_reason(task.spec)
            if reason is None and any(interval > 1 for interval in task.spec.decision_intervals):
                reason = "at decision intervals above 1"
            if reason is not None:
                reasons[task.task_id] = reason
        return reasons

    def config(self) -> dict[str, Any]:
        return {
            "agent": self.agent.reference,
            "suite": self.suite,
            "seeds": list(self.protocol.seeds),
            "tasks": [
                {"id": t.spec.id, "episodes": t.spec.episodes, "decision_intervals": list(t.spec.decision_intervals)}
                | ({"trial": dataclasses.asdict(t.spec.trial)} if t.spec.trial else {})
                for t in self.protocol
            ],
        }


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
    source = agent or load_agent(request.agent)
    check_task = getattr(source.factory, "check_task", None)  # an agent that can tell before it plays
    if callable(check_task):
        for spec in specs:
            try:
                check_task(spec)
            except GymarenaError:
                raise
            except Exception as exc:  # the user's code: reported as theirs, in one line
                raise AgentLoadError(f"agent {source.reference!r} cannot play {spec.id}: {exc}{raised_at(exc)}") from exc
    return RunPlan(installed_protocol(specs, seeds), source, label, request.algorithm)


def plan_stored_run(run: RunInfo) -> RunPlan:
    """The plan of a stored run, checked against the code and simulators installed now."""
    agent = load_agent(run.agent.reference)
    if agent.content_hash != run.agent.content_hash:
        raise RunConfigError(
            f"run {run.id}: the code of agent {run.agent.reference!r} changed since the run started, "
            f"so its episodes would not be comparable; start a new run (drop {param('resume')})"
        )
    plan = RunPlan(installed_protocol([t.spec for t in run.protocol], run.protocol.seeds), agent, run.suite,
                   run.algorithm)
    for stored, planned in zip(run.protocol, plan.protocol, strict=True):
        if stored.hash != planned.hash:
            raise RunConfigError(
                f"run {run.id}: the protocol of {stored.task_id} changed since the run started "
                f"(simulator versions then {stored.simulator_versions}, now {planned.simulator_versions}); "
                f"start a new run (drop {param('resume')})"
            )
    return plan
