"""The task catalog: one TOML file per simulator family, read into TaskSpecs.

A catalog file has ``family``, ``extra`` and ``[[tasks]]`` tables; suite files use the
same task tables to define tasks inline. ``reward_range = [low, high]`` with
``reward_range_source`` (for the whole file, or per task) says what one step can reward:
a server checks uploaded returns against it (tasks.RewardRange).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from gymarena.specfile import SpecTable, read_spec_file
from gymarena.success import check_success_rule
from gymarena.tasks import (
    DEFAULT_EPISODES,
    SCORE_QUANTITIES,
    TASK_ID_PATTERN,
    FasRefs,
    RewardRange,
    ScoreRefs,
    TaskSpec,
    TrialSpec,
    register,
    register_reward_range,
)

CATALOG_DIR = Path(__file__).parent


SWEEP_KEYS = {"decision_intervals", "fas"}
_TASK_KEYS = {
    "id", "env_id", "kwargs", "max_episode_steps", "episodes", "success", "scores",
    "agents", "description", "family", "extra", "trial", "reward_range", "reward_range_source", *SWEEP_KEYS,
}
_SCORE_KEYS = {"random", "reference", "random_source", "reference_source", "quantity"}
_FAS_KEYS = {"r_max", "offset", "source"}
_TRIAL_KEYS = {"adaptation", "evaluation"}


def sweep_fields(table: SpecTable, default_intervals: tuple[int, ...] | None = None) -> dict[str, Any]:
    """``decision_intervals`` and ``fas`` of a task table (the FAS sweep), when given."""
    fields: dict[str, Any] = {}
    if table.has("decision_intervals"):
        fields["decision_intervals"] = table.increasing_int_list("decision_intervals")
    elif default_intervals:
        fields["decision_intervals"] = default_intervals
    if table.has("fas"):
        refs = table.table("fas")
        refs.reject_unknown(_FAS_KEYS)
        r_max = refs.number("r_max")
        if r_max <= 0:
            raise refs.fail("r_max", "a positive number")
        fields["fas"] = FasRefs(r_max=r_max, offset=refs.number("offset") if refs.has("offset") else 0.0,
                                source=refs.string("source"))
    return fields


def with_sweep(task: TaskSpec, table: SpecTable, fields: dict[str, Any]) -> TaskSpec:
    """The task with sweep fields applied; an inconsistent sweep is reported at the table."""
    if not fields:
        return task
    try:
        return dataclasses.replace(task, **fields)
    except ValueError as exc:
        raise table.fail("decision_intervals" if table.has("decision_intervals") else "fas", str(exc)) from None


def task_from_table(
    table: SpecTable,
    family: str | None = None,
    extra: str | None = None,
    default_intervals: tuple[int, ...] | None = None,
) -> TaskSpec:
    """Build a TaskSpec from a ``[[tasks]]`` table, reporting bad keys by name."""
    table.reject_unknown(_TASK_KEYS)
    task_id = table.string("id")
    id_match = TASK_ID_PATTERN.match(task_id)
    if id_match is None:
        raise table.fail("id", "a task id of the form 'family/Name-vN'")
    family = table.string("family", family or id_match["family"])
    if family != id_match["family"]:
        raise table.fail("id", f"an id in family '{family}'")
    scores = None
    if table.has("scores"):
        refs = table.table("scores")
        refs.reject_unknown(_SCORE_KEYS)
        quantity = refs.string("quantity", "return")
        if quantity not in SCORE_QUANTITIES:
            raise refs.fail("quantity", f"one of {', '.join(SCORE_QUANTITIES)}")
        scores = ScoreRefs(
            random=refs.number("random"),
            reference=refs.number("reference"),
            random_source=refs.string("random_source"),
            reference_source=refs.string("reference_source"),
            quantity=quantity,
        )
        if scores.reference == scores.random:
            raise refs.fail("reference", "a reference score different from the random score")
    success = table.string("success", "none")
    try:
        check_success_rule(success)
    except ValueError as exc:
        raise table.fail("success", str(exc)) from None
    kwargs = table.table("kwargs").data if table.has("kwargs") else {}
    agents = table.string("agents", "single")
    if agents not in ("single", "multi"):
        raise table.fail("agents", "'single' or 'multi'")
    trial = None
    if table.has("trial"):
        trial_table = table.table("trial")
        trial_table.reject_unknown(_TRIAL_KEYS)
        trial = TrialSpec(trial_table.integer("adaptation", minimum=0), trial_table.integer("evaluation", minimum=1))
    task = TaskSpec(
        id=task_id,
        family=family,
        env_id=table.string("env_id"),
        extra=table.string("extra", extra or family),
        kwargs=dict(kwargs),
        max_episode_steps=table.optional_int("max_episode_steps", minimum=1),
        episodes=table.integer("episodes", DEFAULT_EPISODES, minimum=1),
        success=success,
        scores=scores,
        agents=agents,
        description=table.data.get("description", ""),
        trial=trial,
    )
    return with_sweep(task, table, sweep_fields(table, default_intervals))


def reward_range_of(table: SpecTable, default: RewardRange | None = None) -> RewardRange | None:
    """A table's ``reward_range`` and ``reward_range_source``, or ``default`` without one."""
    if not table.has("reward_range"):
        return default
    value = table.data["reward_range"]
    if (not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                                   for v in value) or value[0] > value[1]):
        raise table.fail("reward_range", "[low, high]: two numbers, low <= high")
    return RewardRange(float(value[0]), float(value[1]), table.string("reward_range_source"))


def read_catalog(path: Path) -> list[tuple[TaskSpec, RewardRange | None]]:
    """Read one family's catalog file: ``family``, ``extra``, its reward range and
    ``[[tasks]]``; each task with its reward range."""
    top = read_spec_file(path)
    top.reject_unknown({"family", "extra", "tasks", "reward_range", "reward_range_source"})
    family = top.string("family")
    extra = top.string("extra", family)
    family_range = reward_range_of(top)
    return [(task_from_table(t, family, extra), reward_range_of(t, family_range)) for t in top.tables("tasks")]


def load_catalog(directory: Path = CATALOG_DIR) -> None:
    """Register every task of the catalog files in ``directory``, with its reward range."""
    for path in sorted(directory.glob("*.toml")):
        for task, reward_range in read_catalog(path):
            register(task)
            if reward_range is not None:
                register_reward_range(task.id, reward_range)
