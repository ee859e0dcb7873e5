"""ResultsStore: the only code that speaks SQL.

It hands out plain dataclasses, never ORM rows, so the rest of gymarena stays free
of SQLAlchemy. Any SQLAlchemy URL works; SQLite is the embedded default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, overload

from sqlalchemy import and_, case, create_engine, func, or_, select, tuple_
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from gymarena.errors import GymarenaError, ResultsStoreError
from gymarena.protocol import RunProtocol, TaskProtocol
from gymarena.records import AgentIdentity, AlgorithmIdentity, EpisodeKey, EpisodeRecord, SeedMean
from gymarena.results.episode_insert import EpisodeInsert
from gymarena.results.heartbeat import holder_alive
from gymarena.results.location import prepare_sqlite_path
from gymarena.results.migrations_runner import SchemaTooNewError, upgrade_to_head
from gymarena.results.models import AgentRow, EpisodeRow, ProtocolRow, RunRow, RunTaskRow, SeedMeanRow, SubmissionRow, utcnow
from gymarena.results.recorder import RunStart, recording
from gymarena.results.sqlite import WRITE_LOCK, configure_sqlite


@dataclass(frozen=True)
class RunInfo:
    """A stored run: who played, under which protocol (typed, task by task), and how it went."""

    id: int
    agent: AgentIdentity
    suite: str | None
    protocol_hash: str
    config_hash: str
    config: dict[str, Any]
    provenance: dict[str, Any]
    status: str
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    episode_count: int
    protocol: RunProtocol
    agent_id: int = 0
    kind: str = "local"
    submission_id: int | None = None
    summary: dict[str, Any] | None = None
    hidden_reason: str | None = None  # set by `gymarena admin hide-run`: out of listings and rankings
    algorithm: AlgorithmIdentity | None = None  # the algorithm the run is one training run of


MAX_ID = 2**63 - 1  # the largest id a SQL integer key holds: a larger one names nothing stored
# A run that counts in listings and rankings: complete, not hidden by the admin, and, if a
# submission made it, that submission finished whole (an algorithm's checkpoints stand or
# fall together: none is listed while another is still being played, or was never played).
_LISTED = ((RunRow.status == "complete") & RunRow.hidden_reason.is_(None)
           & (RunRow.submission_id.is_(None)
              | RunRow.submission_id.in_(select(SubmissionRow.id).where(SubmissionRow.status == "finished"))))


def known_id(value: int) -> bool:
    """Whether ``value`` can be a stored row's id at all (ids from URLs can be any integer)."""
    return 0 < value <= MAX_ID


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class ResultsStore:
    """Runs, agents, protocols and episodes in one SQL database."""

    def __init__(self, url: str):
        self._complete_means: dict[int, list[SeedMean]] = {}
        self.url = url
        self.display_url = _safe_url(url)
        self.engine = self._connect(url)

    # -- opening ------------------------------------------------------------------------

    def _fail(self, action: str, exc: BaseException) -> ResultsStoreError:
        reason = getattr(exc, "orig", None) or exc
        return ResultsStoreError(
            f"cannot {action} the results database {self.display_url}: {reason}; "
            "pass --db with a writable location (or set GYMARENA_DB)"
        )

    def _connect(self, url: str) -> Engine:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ResultsStoreError(
                f"{url!r} is not a database URL; use e.g. sqlite:///path/results.sqlite "
                "or postgresql://user@host/dbname"
            ) from None
        if parsed.get_backend_name() == "sqlite":
            prepare_sqlite_path(parsed, self.display_url)
        try:
            engine = create_engine(url, future=True)
        except ImportError as exc:
            raise ResultsStoreError(
                f"cannot open the results database {self.display_url}: its driver is missing ({exc}); "
                "for PostgreSQL: pip install 'gymarena[postgres]'"
            ) from None
        except (ArgumentError, SQLAlchemyError) as exc:
            raise self._fail("open", exc) from None
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine)
        try:
            upgrade_to_head(engine)
        except SchemaTooNewError as exc:
            engine.dispose()
            raise ResultsStoreError(f"cannot open the results database {self.display_url}: {exc}") from None
        except (SQLAlchemyError, OSError) as exc:
            engine.dispose()
            raise self._fail("open", exc) from None
        return engine

    @cached_property
    def submissions(self):
        """Tokens and submissions of the leaderboard server (results/submissions.py)."""
        from gymarena.results.submissions import Submissions

        return Submissions(self)

    @cached_property
    def snapshots(self):
        """Stored leaderboard pages, written by the ranking refresher (results/snapshots.py)."""
        from gymarena.results.snapshots import RankingSnapshots

        return RankingSnapshots(self)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def _write_session(self) -> Session:
        """A session whose transactions take SQLite's write lock at BEGIN (IMMEDIATE). A
        deferred transaction that reads, then writes after another process committed,
        fails at once with "database is locked" instead of waiting its turn."""
        return Session(self.engine.execution_options(**{WRITE_LOCK: True}), expire_on_commit=False)

    def _write(self, action: str, work) -> Any:
        """Run ``work(session)`` in one transaction, reporting failures as store errors.

        A unique-key conflict (another process inserted the same agent or protocol row
        between our read and our insert) is retried once, when the read then finds it.
        """
        for attempt in range(2):
            try:
                with self._write_session() as session, session.begin():
                    return work(session)
            except IntegrityError as exc:
                if attempt == 1:
                    raise self._fail(action, exc) from None
            except SQLAlchemyError as exc:
                raise self._fail(action, exc) from None

    # -- writing: through the run recorder ----------------------------------------------

    def recording(self, start: RunStart, resume: bool | int = False, atomic: bool = False):
        """Record a run (results/recorder.py): ``with store.recording(start) as run: run.put(record)``."""
        return recording(self, start, resume, atomic)

    @cached_property
    def _episode_insert(self) -> EpisodeInsert:
        return EpisodeInsert(self.engine.dialect)

    # -- reading ------------------------------------------------------------------------

    def _read(self, work) -> Any:
        try:
            with self._session() as session:
                return work(session)
        except SQLAlchemyError as exc:
            raise self._fail("read", exc) from None

    def find_resumable_run(self, config_hash: str) -> int | None:
        """The newest unfinished run with this config, which a new eval continues."""
        return self._newest_run(RunRow.config_hash == config_hash, RunRow.status != "complete")

    def find_complete_run(self, config_hash: str) -> int | None:
        """The newest complete run with this config (an imported run is not imported twice)."""
        return self._newest_run(RunRow.config_hash == config_hash, RunRow.status == "complete")

    def _newest_run(self, *conditions: Any) -> int | None:
        return self._read(lambda s: s.scalar(select(RunRow.id).where(*conditions).order_by(RunRow.id.desc()).limit(1)))

    def finished_keys(self, run_id: int) -> set[EpisodeKey]:
        rows = self._read(
            lambda s: s.execute(
                select(EpisodeRow.task_id, EpisodeRow.seed, EpisodeRow.episode, EpisodeRow.decision_interval)
                .where(EpisodeRow.run_id == run_id)
            ).all()
        )
        return {EpisodeKey(*row) for row in rows}

    def episodes(self, run_id: int) -> list[EpisodeRecord]:
        """A run's episodes in plan order (task position, seed, decision interval, episode)."""

        def work(session: Session) -> list[EpisodeRecord]:
            rows = session.execute(
                select(EpisodeRow, RunTaskRow.position)
                .join(RunTaskRow, (RunTaskRow.run_id == EpisodeRow.run_id) & (RunTaskRow.task_id == EpisodeRow.task_id))
                .where(EpisodeRow.run_id == run_id)
                .order_by(RunTaskRow.position, EpisodeRow.seed, EpisodeRow.decision_interval, EpisodeRow.episode)
            ).all()
            return [_record_from_row(row) for row, _ in rows]

        return self._read(work)

    def seed_means(self, run_ids: Iterable[int]) -> list[SeedMean]:
        """Per (run, task, seed, decision interval): scored episodes (no crash, not an
        adaptation episode), their mean return and success rate (None when no rule).

        A complete run's means were stored when it completed (``seed_means`` table) and
        are kept here after the first read (per store object); other runs' are
        aggregated from their episodes on every call.
        """
        run_ids = list(dict.fromkeys(run_ids))
        missing = [r for r in run_ids if r not in self._complete_means]
        fresh: dict[int, list[SeedMean]] = {}
        if missing:
            stored = self._read(lambda s: s.execute(
                select(*_seed_key_columns(SeedMeanRow), SeedMeanRow.recorded, SeedMeanRow.failed, SeedMeanRow.episodes,
                       SeedMeanRow.mean_return, SeedMeanRow.mean_square_return, SeedMeanRow.success_rate)
                .where(SeedMeanRow.run_id.in_(missing))).all())
            for row in stored:
                fresh.setdefault(row[0], []).append(_seed_mean(*row))
            self._complete_means.update(fresh)
            unstored = [r for r in missing if r not in fresh]
            if unstored:
                aggregated: dict[int, list[SeedMean]] = {r: [] for r in unstored}
                for row in self._read(lambda s: s.execute(seed_mean_aggregate(unstored)).all()):
                    aggregated[row[0]].append(_seed_mean(*row))
                complete = self._read(lambda s: set(s.scalars(
                    select(RunRow.id).where(RunRow.id.in_(unstored), RunRow.status == "complete")).all()))
                self._complete_means.update({r: aggregated[r] for r in complete})
                fresh.update(aggregated)
        return [m for r in run_ids for m in (self._complete_means.get(r) or fresh.get(r, []))]

    def agent_runs(self, agent_id: int) -> list[RunInfo]:
        """Every run of one agent identity, oldest first."""
        return self._runs(RunRow.agent_id == agent_id) if known_id(agent_id) else []

    def suite_labels(self) -> dict[str, int]:
        """The suites (``name@version``) with complete listed runs stored, and how many each has."""
        rows = self._read(
            lambda s: s.execute(
                select(RunRow.suite, func.count())
                .where(RunRow.suite.is_not(None), _LISTED)
                .group_by(RunRow.suite)
                .order_by(RunRow.suite)
            ).all()
        )
        return {suite: int(count) for suite, count in rows}

    def suite_version(self, suite: str) -> tuple[int, int, str]:
        """What changes whenever a run of the suite completes (or a complete one changes):
        (complete runs, newest of them, latest update), for ranking caches keyed on it.
        Episodes streaming into running runs leave it alone: rankings hold complete runs."""
        return self._listed_version(RunRow.suite == suite)

    def algorithm_version(self) -> tuple[int, int, str]:
        """As :meth:`suite_version`, for the complete runs that name an algorithm."""
        return self._listed_version(RunRow.algorithm.is_not(None))

    def _listed_version(self, condition: Any) -> tuple[int, int, str]:
        count, newest, updated = self._read(
            lambda s: s.execute(
                select(func.count(), func.max(RunRow.id), func.max(RunRow.updated_at)).where(condition, _LISTED)
            ).one()
        )
        return int(count), int(newest or 0), str(updated)

    def episodes_page(self, run_id: int, offset: int, limit: int) -> list[EpisodeRecord]:
        """A slice of a run's episodes in plan order, for paged tables.

        Counted per task first (from the per-seed means a complete run stores, else by
        counting), then read task by task along the episode key's index (run, task, seed,
        interval, episode): the offset is skipped over index entries alone, then the page's
        rows are one short range scan, never a sort of the run's episodes."""

        def work(session: Session) -> list[EpisodeRecord]:
            order = session.execute(
                select(RunTaskRow.task_id).where(RunTaskRow.run_id == run_id).order_by(RunTaskRow.position)
            ).scalars().all()
            counts = _task_counts(session, run_id)
            records: list[EpisodeRecord] = []
            skip, wanted = offset, limit
            for task_id in order:
                count = counts.get(task_id, 0)
                if skip >= count:
                    skip -= count
                    continue
                in_task = (EpisodeRow.run_id == run_id, EpisodeRow.task_id == task_id)
                key = (EpisodeRow.seed, EpisodeRow.decision_interval, EpisodeRow.episode)
                # The page's first key, skipping over index entries only; then its rows.
                first = session.execute(select(*key).where(*in_task).order_by(*key).offset(skip).limit(1)).one()
                rows = session.execute(
                    select(EpisodeRow).where(*in_task, tuple_(*key) >= tuple_(*first)).order_by(*key).limit(wanted)
                ).scalars().all()
                records.extend(_record_from_row(row) for row in rows)
                wanted -= len(rows)
                skip = 0
                if wanted <= 0:
                    break
            return records

        return self._read(work)

    def algorithm_runs(self) -> list[RunInfo]:
        """The complete, listed runs that name the algorithm they are a training run of, oldest first."""
        return self._runs(RunRow.algorithm.is_not(None) & _LISTED)

    def suite_runs(self, suite: str) -> list[RunInfo]:
        """The complete runs of a suite (``name@version``) that are not hidden, oldest first."""
        return self._runs((RunRow.suite == suite) & _LISTED)

    def get_run(self, run_id: int) -> RunInfo | None:
        runs = self._runs(RunRow.id == run_id) if known_id(run_id) else []
        return runs[0] if runs else None

    def delete_run(self, run_id: int) -> None:
        """Remove a run and everything stored under it (its episodes, per-seed means, task
        links), in one transaction. The agent and protocol rows stay: other runs share them."""
        from gymarena.results.recorder import _delete_run

        if self.get_run(run_id) is None:
            raise GymarenaError(f"there is no run {run_id} in this database (gymarena results lists them)")
        self._write("write to", lambda session: _delete_run(session, run_id))

    def set_hidden(self, run_id: int, reason: str | None) -> None:
        """Hide a run from every listing and ranking, with the reason (None: show it again).
        Its episodes stay stored; nothing else changes."""
        def work(session: Session) -> None:
            found = session.get(RunRow, run_id)
            if found is None:
                raise GymarenaError(f"there is no run {run_id} in this database (gymarena results lists them)")
            found.hidden_reason, found.updated_at = reason, utcnow()

        if not known_id(run_id):
            raise GymarenaError(f"there is no run {run_id} in this database (gymarena results lists them)")
        self._write("write to", work)

    def set_algorithm(self, run_id: int, algorithm: AlgorithmIdentity, config_hash: str) -> None:
        """Name the algorithm a stored run is one training run of (an imported run whose
        document now names it), with the config hash that includes it."""
        def work(session: Session) -> None:
            found = session.get(RunRow, run_id)
            if found is None:
                raise GymarenaError(f"there is no run {run_id} in this database (gymarena results lists them)")
            found.algorithm, found.config_hash, found.updated_at = algorithm.portable(), config_hash, utcnow()

        self._write("write to", work)

    def list_runs(self) -> list[RunInfo]:
        return self._runs(None)

    def _runs(self, condition: Any) -> list[RunInfo]:
        def work(session: Session) -> list[RunInfo]:
            query = select(RunRow, AgentRow).join(AgentRow, AgentRow.id == RunRow.agent_id).order_by(RunRow.id)
            if condition is not None:
                query = query.where(condition)
            results = session.execute(query).all()
            tasks = self._run_tasks(session, [run.id for run, _ in results])
            return [_run_info(run, agent, tasks.get(run.id, RunProtocol(()))) for run, agent in results]

        return self._read(work)

    @staticmethod
    def _run_tasks(session: Session, run_ids: list[int]) -> dict[int, RunProtocol]:
        if not run_ids:
            return {}
        rows = session.execute(
            select(RunTaskRow, ProtocolRow)
            .join(ProtocolRow, ProtocolRow.hash == RunTaskRow.protocol_hash)
            .where(RunTaskRow.run_id.in_(run_ids))
            .order_by(RunTaskRow.run_id, RunTaskRow.position)
        ).all()
        parsed: dict[str, TaskProtocol] = {}  # a protocol shared by many runs is parsed once
        grouped: dict[int, list[TaskProtocol]] = {}
        for link, row in rows:
            if row.hash not in parsed:
                parsed[row.hash] = TaskProtocol.from_json(
                    {"protocol_hash": row.hash, "spec": row.spec, "seeds": row.seeds,
                     "simulator_versions": row.simulator_versions, "metric_definitions": row.metric_definitions},
                    trusted=True)
            grouped.setdefault(link.run_id, []).append(parsed[row.hash])
        return {run_id: RunProtocol(tuple(items)) for run_id, items in grouped.items()}


def _seed_key_columns(table) -> tuple:
    return (table.run_id, table.task_id, table.seed, table.decision_interval)


def seed_mean_aggregate(run_ids: list[int]):
    """Per (run, task, seed, interval): records, crashed ones, scored ones (no crash, not an
    adaptation episode) and the scored ones' mean return, mean squared return and success
    rate, in ``seed_means`` column order (NULL means for a seed with nothing scored)."""
    scored = and_(EpisodeRow.error.is_(None), or_(EpisodeRow.phase.is_(None), EpisodeRow.phase != "adaptation"))
    returns = case((scored, EpisodeRow.episode_return), else_=None)
    success = case((~scored, None), (EpisodeRow.success.is_(None), None), (EpisodeRow.success.is_(True), 1.0), else_=0.0)
    return (
        select(*_seed_key_columns(EpisodeRow), func.count(), func.count(EpisodeRow.error),
               func.count(returns), func.avg(returns), func.avg(returns * returns), func.avg(success))
        .where(EpisodeRow.run_id.in_(run_ids))
        .group_by(*_seed_key_columns(EpisodeRow))
    )


def _task_counts(session: Session, run_id: int) -> dict[str, int]:
    """A run's episodes per task: summed from its per-seed means when it has them (a complete
    run: a few rows), else counted (10,000 index entries of a large run took ~1.3 ms, the
    costliest query of a run page under load)."""
    stored = dict(session.execute(
        select(SeedMeanRow.task_id, func.sum(SeedMeanRow.recorded)).where(SeedMeanRow.run_id == run_id)
        .group_by(SeedMeanRow.task_id)
    ).all())
    if stored:
        return {task: int(count) for task, count in stored.items()}
    return dict(session.execute(
        select(EpisodeRow.task_id, func.count()).where(EpisodeRow.run_id == run_id).group_by(EpisodeRow.task_id)
    ).all())


def _seed_mean(run_id: int, task_id: str, seed: int, interval: int, recorded: int, failed: int, count: int,
               mean: float | None, square: float | None, rate: float | None) -> SeedMean:
    return SeedMean(run_id, task_id, seed, interval, int(recorded), int(failed), int(count),
                    float("nan") if mean is None else float(mean), float("nan") if square is None else float(square),
                    None if rate is None else float(rate))


def _record_from_row(row: EpisodeRow) -> EpisodeRecord:
    return EpisodeRecord(
        task_id=row.task_id,
        seed=row.seed,
        episode=row.episode,
        episode_seed=row.episode_seed,
        episode_return=row.episode_return,
        length=row.length,
        success=row.success,
        terminated=row.terminated,
        truncated=row.truncated,
        env_steps=row.env_steps,
        wall_seconds=row.wall_seconds,
        agent_returns=row.agent_returns,
        extra=row.extra or {},
        error=row.error,
        decision_interval=row.decision_interval,
        trial=row.trial,
        phase=row.phase,
    )


@overload
def _utc(moment: datetime) -> datetime: ...
@overload
def _utc(moment: datetime | None) -> datetime | None: ...
def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC, so say so."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def _run_info(run: RunRow, agent: AgentRow, protocol: RunProtocol) -> RunInfo:
    # A running run whose process is gone is interrupted (results/heartbeat.py); resuming continues it.
    dead = run.status == "running" and not holder_alive(run.holder, run.updated_at)
    return RunInfo(
        id=run.id,
        agent=AgentIdentity(agent.name, agent.reference, agent.version, agent.content_hash, agent.owner),
        suite=run.suite,
        protocol_hash=run.protocol_hash,
        config_hash=run.config_hash,
        config=run.config,
        provenance=run.provenance,
        status="interrupted" if dead else run.status,
        error="its process ended without finishing it" if dead else run.error,
        created_at=_utc(run.created_at),
        updated_at=_utc(run.updated_at),
        finished_at=_utc(run.finished_at),
        episode_count=run.episode_count,
        protocol=protocol,
        agent_id=agent.id,
        kind=run.kind,
        submission_id=run.submission_id,
        summary=run.summary,
        hidden_reason=run.hidden_reason,
        algorithm=_algorithm(run.algorithm),
    )


def _algorithm(stored: dict[str, str] | None) -> AlgorithmIdentity | None:
    return None if not stored else AlgorithmIdentity(stored["name"], stored.get("version", ""), stored.get("code_hash", ""))
