"""Suites: versioned sets of tasks with a seed set, read from TOML files.

A suite file has ``name``, ``version``, ``description``, ``seeds``, an optional
``ranking`` (how the leaderboard orders agents, see :data:`DEFAULT_RANKING`), an optional
``episodes`` (per seed, overriding each task's budget), optional ``decision_intervals``
(a sweep of action-sequence lengths for every task, as FAS needs), an optional ``board``
(what its leaderboard ranks, see :data:`BOARDS`) with that board's settings in a table of
its name (``[cav]``, ``[social]``), and ``[[tasks]]`` tables. A task table either names a
registered task (``id``, optionally ``episodes``, ``decision_intervals`` and ``fas``) or
defines one inline (``id``, ``env_id`` and the other TaskSpec keys). ``name@N`` selects a
version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from gymarena.catalog import SWEEP_KEYS, sweep_fields, task_from_table, with_sweep
from gymarena.errors import GymarenaError, SuiteFormatError, UnknownSuiteError
from gymarena.specfile import SpecTable, read_spec_file
from gymarena.tasks import TaskSpec, get_task, suggest

SUITES_DIR = Path(__file__).parent
_SUITE_KEYS = {"name", "version", "description", "seeds", "episodes", "decision_intervals", "ranking", "tasks", "board",
               "cav", "social"}
# What a suite's leaderboard ranks: "scores" (normalised scores, IQM over runs x tasks),
# "cav" (an AV's crash rate per test, estimated by importance-sampled testing: cavtest) or
# "social" (win rates and a rating from games against a fixed pool of opponents).
BOARDS = ("scores", "cav", "social")
# How a suite ranks agents: keys compared in order, each "STATISTIC:QUANTITY" with
# STATISTIC mean or median and QUANTITY return, success, normalised or metrics.NAME
# (a family metric on the episode records). Default: IQM of normalised scores.
DEFAULT_RANKING = ("iqm:normalised",)
_RANKING_KEY = re.compile(r"^(mean|median|iqm):(return|success|normalised|metrics\.[A-Za-z_][\w]*)$")


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    description: str
    seeds: tuple[int, ...]
    tasks: tuple[TaskSpec, ...]
    path: Path
    ranking: tuple[str, ...] = DEFAULT_RANKING
    board: str = "scores"
    settings: tuple[tuple[str, Any], ...] = ()  # the board's table ([cav], [social]), as sorted items

    def setting(self, key: str, default: Any = None) -> Any:
        return dict(self.settings).get(key, default)

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(task.family for task in self.tasks))

    @property
    def label(self) -> str:
        """``name@version``, the form stored with runs."""
        return f"{self.name}@{self.version}"


def _suite_task(table: SpecTable, default_episodes: int | None, default_intervals: tuple[int, ...] | None) -> TaskSpec:
    if table.has("env_id"):
        try:
            task = task_from_table(table, default_intervals=default_intervals)
        except ValueError as exc:
            raise SuiteFormatError(f"{table.path}: {table.where}: {exc}") from None
    else:
        table.reject_unknown({"id", "episodes", *SWEEP_KEYS})
        try:
            task = get_task(table.string("id"))
        except GymarenaError as exc:
            raise SuiteFormatError(f"{table.path}: key '{table.where}.id': {exc}") from None
        task = with_sweep(task, table, sweep_fields(table, default_intervals))
    episodes = table.optional_int("episodes", minimum=1) or default_episodes
    return task.with_episodes(episodes) if episodes else task


def read_suite(path: Path) -> Suite:
    """Parse and validate one suite file; errors name the file and the key."""
    top = read_spec_file(path)
    top.reject_unknown(_SUITE_KEYS)
    episodes = top.optional_int("episodes", minimum=1)
    intervals = top.increasing_int_list("decision_intervals") if top.has("decision_intervals") else None
    tasks = tuple(_suite_task(t, episodes, intervals) for t in top.tables("tasks"))
    board = _board(top)
    settings = _board_settings(top, board)
    if board == "social":  # its tasks are played against the [social] pool, one role at a time
        from gymarena.suites.pool import pooled, reference_pool

        pool = reference_pool(dict(settings), str(path))
        tasks = tuple(pooled(task, pool, str(path)) for task in tasks)
    ids = [t.id for t in tasks]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise SuiteFormatError(f"{path}: key 'tasks': task {duplicated[0]!r} appears more than once")
    return Suite(
        name=top.string("name"),
        version=top.integer("version", minimum=1),
        description=top.string("description", "") if top.has("description") else "",
        seeds=top.int_list("seeds"),
        tasks=tasks,
        path=path,
        ranking=_ranking(top),
        board=board,
        settings=settings,
    )


def _board(top: SpecTable) -> str:
    board = top.string("board") if top.has("board") else "scores"
    if board not in BOARDS:
        raise top.fail("board", f"one of {', '.join(BOARDS)}")
    return board


def _board_settings(top: SpecTable, board: str) -> tuple[tuple[str, Any], ...]:
    """The board's own table (only the board's: another board's table is an error)."""
    for other in BOARDS:
        if other != board and top.has(other):
            raise top.fail(other, f"a table of the {other!r} board, but the suite's board is {board!r}")
    table = top.data.get(board, {})
    if not isinstance(table, dict):
        raise top.fail(board, "a table of the board's settings")
    return tuple(sorted(table.items()))


def _ranking(top: SpecTable) -> tuple[str, ...]:
    if not top.has("ranking"):
        return DEFAULT_RANKING
    keys = top.data["ranking"]
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and _RANKING_KEY.match(k) for k in keys):
        raise top.fail("ranking", "a non-empty list of 'mean|median|iqm:return|success|normalised|metrics.NAME'")
    return tuple(keys)


def builtin_suite_paths() -> list[Path]:
    return sorted(SUITES_DIR.glob("*.toml"))


def list_suites() -> list[Suite]:
    """The suites shipped with gymarena (each file parsed again only when it changes)."""
    return [_read_unchanged(p, p.stat().st_mtime_ns) for p in builtin_suite_paths()]


@lru_cache(maxsize=256)
def _read_unchanged(path: Path, mtime_ns: int) -> Suite:
    """A suite file as last parsed at this modification time (a server looks suites up
    on every page; parsing every file each time cost ~15 ms)."""
    return read_suite(path)


def load_suite(name_or_path: str) -> Suite:
    """A suite by ``name``, ``name@version`` or a path to a suite file."""
    path = Path(name_or_path).expanduser()
    if name_or_path.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise UnknownSuiteError(f"suite file {str(path)!r} does not exist")
        return read_suite(path)
    return registered_suite(name_or_path)


def registered_suite(name: str) -> Suite:
    """A suite shipped with gymarena, by ``name`` or ``name@version``: never a file path
    (what a server accepts from its clients)."""
    given = name
    name, _, version = name.partition("@")
    candidates = [s for s in list_suites() if s.name == name]
    if not candidates:
        names = list(dict.fromkeys(s.name for s in list_suites()))  # a name once, whatever its versions
        hints = suggest(name, names)
        hint = f"; did you mean {' or '.join(repr(h) for h in hints)}?" if hints else ""
        raise UnknownSuiteError(
            f"unknown suite {given!r}{hint} (known: {', '.join(names)}; or pass a path to a .toml file)"
        )
    if version:
        matching = [s for s in candidates if str(s.version) == version]
        if not matching:
            known = ", ".join(s.label for s in candidates)
            raise UnknownSuiteError(f"suite {name!r} has no version {version!r} (known: {known})")
        return matching[0]
    return max(candidates, key=lambda s: s.version)


def board_suite(request: Any, board: str, refused: dict[str, Any]) -> Suite | None:
    """The suite of ``board`` an evaluation request names (it has ``suite`` and ``resume``),
    or None: then the runner plays it. ``refused``: the request's options that mean nothing
    to the board's own play (option -> whether it was given), refused naming them."""
    if not request.suite or request.resume is not None:
        return None
    suite = load_suite(request.suite)
    if suite.board != board:
        return None
    given = [name for name, value in refused.items() if value]
    if given:
        raise GymarenaError(f"{suite.label} is a {board} board's suite, which plays its own way; drop {', '.join(given)}")
    return suite
