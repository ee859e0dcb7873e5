"""Tasks: the frozen TaskSpec and the task registry (a task under seeds is a protocol: protocol.py).

A task id (``family/Name-vN``) never changes meaning: a change of protocol is a new
version. The registry is filled from the catalog files in ``gymarena/catalog/`` and
every id is also registered with Gymnasium, so ``gymnasium.make(task_id)`` works after
``import gymarena``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gymarena.errors import UnknownTaskError
from gymarena.success import check_success_rule

TASK_ID_PATTERN = re.compile(r"^(?P<family>[a-z][a-z0-9_]*)/(?P<name>[A-Za-z0-9][\w.-]*?)-v(?P<version>\d+)$")
DEFAULT_EPISODES = 10

SCORE_QUANTITIES = ("return", "success")


@dataclass(frozen=True)
class ScoreRefs:
    """Values that anchor the normalised score: 0 at ``random``, 1 at ``reference``.

    ``quantity`` is what is normalised per episode: the return (default) or, for families
    whose benchmark reports success rates (Meta-World), success as 0/1.
    """

    random: float
    reference: float
    random_source: str
    reference_source: str
    quantity: str = "return"

    def __post_init__(self) -> None:
        if self.quantity not in SCORE_QUANTITIES:
            raise ValueError(f"score quantity must be one of {', '.join(SCORE_QUANTITIES)}, got {self.quantity!r}")


@dataclass(frozen=True)
class TrialSpec:
    """A meta-RL trial: on one task drawn for the trial, ``adaptation`` episodes whose
    rewards the agent sees, then ``evaluation`` episodes that are scored. The agent keeps
    its memory across the episodes of a trial (see gymarena/runner/trials.py)."""

    adaptation: int
    evaluation: int

    def __post_init__(self) -> None:
        if self.adaptation < 0 or self.evaluation < 1:
            raise ValueError(
                f"a trial needs adaptation >= 0 and evaluation >= 1 episodes, got {self.adaptation} and {self.evaluation}"
            )

    @property
    def episodes(self) -> int:
        return self.adaptation + self.evaluation


@dataclass(frozen=True)
class FasRefs:
    """Anchors of the Frequency-Averaged Score (metrics/fas.py): the return that counts as
    full marks and the offset that makes returns non-negative, with their source."""

    r_max: float
    offset: float
    source: str


@dataclass(frozen=True)
class Opponent:
    """A reference player of a pool: its name on the board and how it is loaded (its code's
    digest is pinned in the task's protocol, beside the simulator's versions)."""

    name: str
    reference: str


@dataclass(frozen=True)
class OpponentPool:
    """A multi-agent task played against a fixed, versioned pool (a social board): the agent
    under test plays one role's seats, a pool member the others, ``games`` games per
    opponent, role and seed; episode e of a seed is the game against
    ``opponents[(e // len(roles)) % len(opponents)]`` in ``roles[e % len(roles)]``."""

    opponents: tuple[Opponent, ...]
    roles: tuple[str, ...]
    games: int

    def matchup(self, episode: int) -> tuple[Opponent, str]:
        """(the opponent, the role of the agent under test) of a seed's episode."""
        return self.opponents[(episode // len(self.roles)) % len(self.opponents)], self.roles[episode % len(self.roles)]

    @property
    def episodes(self) -> int:
        return len(self.opponents) * len(self.roles) * self.games


@dataclass(frozen=True)
class TaskSpec:
    """Everything that fixes the meaning of a task's score.

    ``episodes`` is the episode budget per seed (per decision interval). ``env_id`` is
    a Gymnasium id or a ``module:Class`` entry point, interpreted by the family's adapter.
    ``decision_intervals`` lists the action-sequence lengths the task is played at: at
    interval l the agent observes once per l primitive steps (the FAS sweep); the default
    (1,) is ordinary evaluation. A task with a ``trial`` is played in meta-RL trials;
    its ``episodes`` then counts trials per seed.
    """

    id: str
    family: str
    env_id: str
    extra: str
    kwargs: Mapping[str, Any] = field(default_factory=dict, hash=False)
    max_episode_steps: int | None = None
    episodes: int = DEFAULT_EPISODES
    success: str = "none"
    scores: ScoreRefs | None = None
    agents: str = "single"
    description: str = ""
    decision_intervals: tuple[int, ...] = (1,)
    fas: FasRefs | None = None
    trial: TrialSpec | None = None
    pool: OpponentPool | None = None  # played against a fixed pool, one role at a time

    def __post_init__(self) -> None:
        match = TASK_ID_PATTERN.match(self.id)
        if match is None:
            raise ValueError(f"task id {self.id!r} does not match 'family/Name-vN'")
        if match["family"] != self.family:
            raise ValueError(f"task id {self.id!r} is not in family {self.family!r}")
        check_success_rule(self.success)
        if self.agents not in ("single", "multi"):
            raise ValueError(f"agents must be 'single' or 'multi', got {self.agents!r}")
        intervals = self.decision_intervals
        if not intervals or any(i < 1 for i in intervals) or list(intervals) != sorted(set(intervals)):
            raise ValueError(f"decision intervals must be increasing integers >= 1, got {list(intervals)}")
        if self.agents == "multi" and intervals != (1,):
            raise ValueError("multi-agent tasks are played at decision interval 1 only")
        if self.trial is not None and (self.agents != "single" or intervals != (1,)):
            raise ValueError("tasks played in trials are single-agent, at decision interval 1")
        if self.fas is not None and len(intervals) < 2:
            raise ValueError("a task with FAS references needs at least two decision intervals to integrate over")
        if self.pool is not None and (self.agents != "multi" or self.episodes != self.pool.episodes):
            raise ValueError("a task played against a pool is multi-agent, its episodes one game per opponent, role "
                             "and game of the pool")

    def with_episodes(self, episodes: int) -> TaskSpec:
        """The same task with another per-seed episode budget (a different protocol)."""
        return dataclasses.replace(self, episodes=episodes)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the inverse is :meth:`from_json_dict`.

        Fields added later are left out at their defaults (the sweep fields, the trial,
        the score quantity), so tasks that do not use them keep the protocol hash they had before.
        """
        data = dataclasses.asdict(self)
        data["kwargs"] = dict(self.kwargs)
        data["decision_intervals"] = list(self.decision_intervals)
        if self.decision_intervals == (1,):
            del data["decision_intervals"]
        if self.fas is None:
            del data["fas"]
        if self.trial is None:
            del data["trial"]
        if self.pool is None:
            del data["pool"]
        if self.scores is not None and self.scores.quantity == "return":
            del data["scores"]["quantity"]
        return data

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> TaskSpec:
        data = dict(data)
        if data.get("scores") is not None:
            data["scores"] = ScoreRefs(**data["scores"])
        if data.get("fas") is not None:
            data["fas"] = FasRefs(**data["fas"])
        if data.get("trial") is not None:
            data["trial"] = TrialSpec(**data["trial"])
        if data.get("pool") is not None:
            pool = data["pool"]
            data["pool"] = OpponentPool(tuple(Opponent(**o) for o in pool["opponents"]), tuple(pool["roles"]),
                                        pool["games"])
        if "decision_intervals" in data:
            data["decision_intervals"] = tuple(data["decision_intervals"])
        return cls(**data)


@dataclass(frozen=True)
class RewardRange:
    """What one step of a task can reward: every return of an episode of n primitive steps
    lies in [n * low, n * high]. Declared in the catalog (``reward_range``, with its
    source), not part of the protocol: it changes no episode, it lets a server refuse
    uploaded returns the task cannot produce."""

    low: float
    high: float
    source: str

    def allows(self, episode_return: float, steps: int) -> bool:
        slack = 1e-6 * max(1.0, abs(episode_return))  # sums of float rewards round
        return steps * self.low - slack <= episode_return <= steps * self.high + slack


# --- the registry ----------------------------------------------------------------------

_REGISTRY: dict[str, TaskSpec] = {}
_REWARD_RANGES: dict[str, RewardRange] = {}


def register_reward_range(task_id: str, reward_range: RewardRange) -> None:
    _REWARD_RANGES[task_id] = reward_range


def reward_range(task_id: str) -> RewardRange | None:
    """The catalog's per-step reward range of a task, if it declares one."""
    return _REWARD_RANGES.get(task_id)


def register(task: TaskSpec) -> None:
    """Add a task; an id may be registered again only with an identical spec."""
    existing = _REGISTRY.get(task.id)
    if existing is not None and existing != task:
        raise ValueError(f"task {task.id} is already registered with another spec")
    _REGISTRY[task.id] = task
    _register_with_gymnasium(task)


def _register_with_gymnasium(task: TaskSpec) -> None:
    import gymnasium

    if task.id in gymnasium.registry or task.agents != "single":
        return
    # The entry point applies the whole protocol (time limit included); Gymnasium adds
    # its own checker and order enforcement on top, so ours are not applied twice.
    gymnasium.register(
        id=task.id,
        entry_point="gymarena.wrappers:make_env_from_registry",
        kwargs={"task_id": task.id},
        disable_env_checker=True,
        order_enforce=False,
    )


def all_tasks() -> list[TaskSpec]:
    """Every registered task, sorted by id."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def suggest(task_id: str, choices: Iterable[str]) -> list[str]:
    """Close matches for a misspelt id, comparing case-insensitively."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(task_id.lower(), list(lowered), n=3, cutoff=0.6)
    if not hits:  # a bare name such as 'DoorKey-8x8-v0' or 'CartPole'
        hits = [c for c in lowered if task_id.lower() in c]
    return [lowered[h] for h in hits[:3]]


def get_task(task_id: str) -> TaskSpec:
    """The registered task with this id, or an error that suggests close ids."""
    try:
        return _REGISTRY[task_id]
    except KeyError:
        pass
    hints = suggest(task_id, _REGISTRY)
    hint = f"; did you mean {' or '.join(repr(h) for h in hints)}?" if hints else "; `gymarena list` shows every task"
    raise UnknownTaskError(f"unknown task {task_id!r}{hint}")
