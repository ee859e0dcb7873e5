"""Tasks: the frozen TaskSpec, success rules, protocol hashes and the task registry.

A task id (``family/Name-vN``) never changes meaning: a change of protocol is a new
version. The registry is filled from the catalog files in ``gymarena/catalog/`` and
every id is also registered with Gymnasium, so ``gymnasium.make(task_id)`` works after
``import gymarena``.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Any

from gymarena.errors import UnknownTaskError
from gymarena.specfile import SpecTable, read_spec_file

TASK_ID_PATTERN = re.compile(r"^(?P<family>[a-z][a-z0-9_]*)/(?P<name>[A-Za-z0-9][\w.-]*?)-v(?P<version>\d+)$")
CATALOG_DIR = Path(__file__).parent / "catalog"
DEFAULT_EPISODES = 10

_COMPARISONS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
_RULE_PATTERN = re.compile(r"^(return|final_reward|length)\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)$")


@dataclass(frozen=True, slots=True)
class EpisodeOutcome:
    """What a success rule may look at when an episode ends."""

    episode_return: float
    final_reward: float
    length: int
    terminated: bool
    truncated: bool
    final_info: Mapping[str, Any]


SuccessTest = Callable[[EpisodeOutcome], "bool | None"]
_QUANTITIES = {
    "return": attrgetter("episode_return"),
    "final_reward": attrgetter("final_reward"),
    "length": attrgetter("length"),
}


@cache
def success_test(rule: str) -> SuccessTest:
    """Compile a success rule once into a test of an ended episode.

    Rules: ``none`` (the task defines no success: the test gives ``None``);
    ``terminated`` (ended by the env, not the time limit); ``info.KEY`` (the final
    info's KEY is truthy, as Meta-World's ``success``); ``return >= X``,
    ``final_reward > X``, ``length < X`` and the other comparisons (>=, >, <=, <, ==).
    Raises ValueError for anything else.
    """
    if rule == "none":
        return lambda outcome: None
    if rule == "terminated":
        return lambda outcome: outcome.terminated and not outcome.truncated
    if rule.startswith("info.") and len(rule) > 5:
        key = rule[5:]
        return lambda outcome: bool(outcome.final_info.get(key, False))
    match = _RULE_PATTERN.match(rule)
    if match is None:
        raise ValueError(
            "a success rule: 'none', 'terminated', 'info.KEY', or "
            "'return|final_reward|length OP NUMBER' with OP one of >=, >, <=, <, =="
        )
    quantity, compare, threshold = _QUANTITIES[match[1]], _COMPARISONS[match[2]], float(match[3])
    return lambda outcome: bool(compare(quantity(outcome), threshold))


def check_success_rule(rule: str) -> None:
    """Raise ValueError unless ``rule`` is a success rule :func:`success_test` knows."""
    success_test(rule)


def episode_succeeded(rule: str, outcome: EpisodeOutcome) -> bool | None:
    """Whether an ended episode succeeded under ``rule`` (None: the task defines no success)."""
    return success_test(rule)(outcome)


@dataclass(frozen=True)
class ScoreRefs:
    """Returns that anchor the normalised score: 0 at ``random``, 1 at ``reference``."""

    random: float
    reference: float
    random_source: str
    reference_source: str


@dataclass(frozen=True)
class TaskSpec:
    """Everything that fixes the meaning of a task's score.

    ``episodes`` is the episode budget per seed. ``env_id`` is a Gymnasium id or a
    ``module:Class`` entry point, interpreted by the family's adapter.
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

    def __post_init__(self) -> None:
        match = TASK_ID_PATTERN.match(self.id)
        if match is None:
            raise ValueError(f"task id {self.id!r} does not match 'family/Name-vN'")
        if match["family"] != self.family:
            raise ValueError(f"task id {self.id!r} is not in family {self.family!r}")
        check_success_rule(self.success)
        if self.agents not in ("single", "multi"):
            raise ValueError(f"agents must be 'single' or 'multi', got {self.agents!r}")

    def with_episodes(self, episodes: int) -> TaskSpec:
        """The same task with another per-seed episode budget (a different protocol)."""
        return dataclasses.replace(self, episodes=episodes)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the inverse is :meth:`from_json_dict`."""
        data = dataclasses.asdict(self)
        data["kwargs"] = dict(self.kwargs)
        return data

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> TaskSpec:
        data = dict(data)
        if data.get("scores") is not None:
            data["scores"] = ScoreRefs(**data["scores"])
        return cls(**data)


def canonical_json(value: Any) -> str:
    """The JSON text that hashes identically for equal values (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def protocol_hash(
    task: TaskSpec,
    seeds: Iterable[int],
    simulator_versions: Mapping[str, str],
    metric_definitions: Mapping[str, Any],
) -> str:
    """sha256 over what makes two results comparable: the spec, the seed set, the episode
    budget (inside the spec), the metric definitions and the simulator's versions."""
    payload = {
        "task": task.to_json_dict(),
        "seeds": sorted(seeds),
        "episodes_per_seed": task.episodes,
        "metrics": dict(metric_definitions),
        "simulator": dict(simulator_versions),
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


# --- catalog files -------------------------------------------------------------------

_TASK_KEYS = {
    "id", "env_id", "kwargs", "max_episode_steps", "episodes", "success", "scores",
    "agents", "description", "family", "extra",
}
_SCORE_KEYS = {"random", "reference", "random_source", "reference_source"}


def task_from_table(table: SpecTable, family: str | None = None, extra: str | None = None) -> TaskSpec:
    """Build a TaskSpec from a ``[[tasks]]`` table, reporting bad keys by name."""
    table.reject_unknown(_TASK_KEYS)
    task_id = table.str("id")
    id_match = TASK_ID_PATTERN.match(task_id)
    if id_match is None:
        raise table.fail("id", "a task id of the form 'family/Name-vN'")
    family = table.str("family", family or id_match["family"])
    if family != id_match["family"]:
        raise table.fail("id", f"an id in family '{family}'")
    scores = None
    if table.has("scores"):
        refs = table.table("scores")
        refs.reject_unknown(_SCORE_KEYS)
        scores = ScoreRefs(
            random=refs.number("random"),
            reference=refs.number("reference"),
            random_source=refs.str("random_source"),
            reference_source=refs.str("reference_source"),
        )
        if scores.reference == scores.random:
            raise refs.fail("reference", "a reference score different from the random score")
    success = table.str("success", "none")
    try:
        check_success_rule(success)
    except ValueError as exc:
        raise table.fail("success", str(exc)) from None
    kwargs = table.table("kwargs").data if table.has("kwargs") else {}
    agents = table.str("agents", "single")
    if agents not in ("single", "multi"):
        raise table.fail("agents", "'single' or 'multi'")
    return TaskSpec(
        id=task_id,
        family=family,
        env_id=table.str("env_id"),
        extra=table.str("extra", extra or family),
        kwargs=dict(kwargs),
        max_episode_steps=table.optional_int("max_episode_steps", minimum=1),
        episodes=table.int("episodes", DEFAULT_EPISODES, minimum=1),
        success=success,
        scores=scores,
        agents=agents,
        description=table.data.get("description", ""),
    )


def read_catalog(path: Path) -> list[TaskSpec]:
    """Read one family's catalog file: ``family``, ``extra`` and ``[[tasks]]``."""
    top = read_spec_file(path)
    top.reject_unknown({"family", "extra", "tasks"})
    family = top.str("family")
    extra = top.str("extra", family)
    return [task_from_table(t, family, extra) for t in top.tables("tasks")]


# --- the registry ----------------------------------------------------------------------

_REGISTRY: dict[str, TaskSpec] = {}


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


def load_catalog(directory: Path = CATALOG_DIR) -> None:
    """Register every task of the catalog files in ``directory``."""
    for path in sorted(directory.glob("*.toml")):
        for task in read_catalog(path):
            register(task)


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
