"""The run recorder: the one way a run and its episodes get into the results database.

Whatever makes a run (an evaluation, a CAV testing run, an imported run document, an
uploaded result) says what the run is in a :class:`RunStart` and records through
``store.recording(start)``::

    with store.recording(start, resume=True) as run:
        for record in played:
            run.put(record)

The recorder creates the run (or, asked to resume, continues the newest unfinished run
of the same config), commits episodes as they finish (those that finish within
``interval`` of the last commit share the next one), and always ends the run: complete
when the block finishes, ``interrupted`` on Ctrl-C, ``failed`` with the error's text on
anything else. An ``atomic`` recording (one-shot imports and uploads) writes the run, all
its episodes and its end in one transaction when the block finishes, so a failure
anywhere stores nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import monotonic
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gymarena.errors import GymarenaError, RunConfigError, capped
from gymarena.protocol import RunProtocol, digest
from gymarena.records import AgentIdentity, AlgorithmIdentity, EpisodeKey, EpisodeRecord
from gymarena.results.heartbeat import Heartbeat, holder_alive, this_process
from gymarena.results.models import AgentRow, EpisodeRow, ProtocolRow, RunRow, RunTaskRow, SeedMeanRow, utcnow

if TYPE_CHECKING:
    from gymarena.results.store import ResultsStore

RUN_STATUSES = ("running", "complete", "failed", "interrupted")
RUN_KINDS = ("local", "verified", "self-reported", "imported")
COMMIT_INTERVAL = 0.25  # s: a killed process loses at most this much play, which a resume plays again


@dataclass(frozen=True)
class RunStart:
    """What a run is: who plays, under which protocol, with which config and provenance.

    ``settings`` are whatever else changes the records (a CAV run's batch size and
    importance sampling, an import's source document): with the protocol and the agent's
    identity they make the config hash, which says "the same run again".
    """

    agent: AgentIdentity
    protocol: RunProtocol
    config: Mapping[str, Any]
    provenance: Mapping[str, Any]
    kind: str = "local"
    suite: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    submission_id: int | None = None
    algorithm: AlgorithmIdentity | None = None  # the algorithm this is one training run of

    def __post_init__(self) -> None:
        if self.kind not in RUN_KINDS:
            raise ValueError(f"unknown run kind {self.kind!r}; one of {', '.join(RUN_KINDS)}")

    @property
    def config_hash(self) -> str:
        """Identifies "the same run again", which a new evaluation continues: protocol, agent
        identity and settings (backend and worker count are left out: they do not change
        the records)."""
        identity: dict[str, Any] = {"protocol": self.protocol.hash, "agent": self.agent.reference,
                                    "code": self.agent.content_hash}
        if self.settings:
            identity["settings"] = dict(self.settings)
        if self.algorithm is not None:
            identity["algorithm"] = self.algorithm.portable()
        return digest(identity)


class RunRecorder:
    """One run being recorded (made by ``ResultsStore.recording``). ``summary``, when set,
    is stored with the run's end (what the run computed about itself)."""

    def __init__(self, store: ResultsStore, start: RunStart, run_id: int | None, resumed: bool, atomic: bool,
                 interval: float = COMMIT_INTERVAL):
        self.store, self.start = store, start
        self.run_id, self.resumed, self.atomic = run_id, resumed, atomic
        self.summary: dict[str, Any] | None = None
        self._interval = interval
        self._pending: list[EpisodeRecord] = []
        self._last_commit = float("-inf")
        self.recorded = 0  # episodes this recorder committed

    def stored_keys(self) -> set[EpisodeKey]:
        """The keys of the episodes the run already holds (a resumed run skips them)."""
        return self.store.finished_keys(self.run_id) if self.run_id is not None else set()

    def put(self, record: EpisodeRecord) -> None:
        """Record one finished episode: committed now, unless the last commit was less
        than ``interval`` ago (then with the next one)."""
        self._pending.append(record)
        if not self.atomic:
            now = monotonic()
            if now - self._last_commit >= self._interval:
                self.flush()
                self._last_commit = now

    def add(self, records: Iterable[EpisodeRecord]) -> None:
        """Record a batch of finished episodes, committed together."""
        self._pending.extend(records)
        if not self.atomic:
            self.flush()

    def flush(self) -> None:
        """Commit every pending episode in one transaction (an atomic recording waits for its end)."""
        if self._pending and not self.atomic:
            run_id, batch, self._pending = self._streaming_run(), self._pending, []
            try:  # a plain Core transaction: the hot path of fast tasks commits every 250 ms
                with self.store.engine.begin() as connection:
                    _insert_episodes(self.store, connection, run_id, batch)
                self.recorded += len(batch)
            except SQLAlchemyError as exc:
                raise self.store._fail("write to", exc) from None

    def _streaming_run(self) -> int:
        if self.run_id is None:
            raise ValueError("an atomic recording has no run until it ends")
        return self.run_id

    def _end(self, status: str, error: str | None) -> None:
        run_id = self._streaming_run()
        self.store._write("write to", lambda session: _end_run(session, run_id, status, error, self.summary))

    def _write_whole(self) -> None:
        """The atomic recording's one transaction: the run, its episodes, its end."""
        records, self._pending = self._pending, []

        def work(session: Session) -> int:
            run_id = _insert_run(session, _agent_id(session, self.start.agent), self.start)
            _insert_episodes(self.store, session.connection(), run_id, records)
            _end_run(session, run_id, "complete", None, self.summary)
            return run_id

        self.run_id = self.store._write("write to", work)


@contextmanager
def recording(store: ResultsStore, start: RunStart, resume: bool | int = False, atomic: bool = False,
              interval: float = COMMIT_INTERVAL) -> Iterator[RunRecorder]:
    """Record one run (see the module's docstring). ``resume``: True continues the newest
    unfinished run with the same config hash, if any; a run id continues that run."""
    if atomic:
        recorder = RunRecorder(store, start, None, False, atomic=True, interval=interval)
        yield recorder
        recorder._write_whole()
        return
    run_id, resumed = _attach(store, start, resume)
    recorder = RunRecorder(store, start, run_id, resumed, atomic=False, interval=interval)
    status, error = "failed", None
    beating = Heartbeat(lambda: store._write("write to", lambda session: session.execute(
        update(RunRow).where(RunRow.id == run_id, RunRow.status == "running").values(updated_at=utcnow()))))
    try:
        with beating:
            yield recorder
        status = "complete"
    except GymarenaError as exc:
        error = str(exc)
        raise
    except KeyboardInterrupt:
        status, error = "interrupted", "interrupted by the user"
        raise
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        try:
            recorder.flush()
        except GymarenaError as exc:
            status, error = "failed", str(exc)
            raise
        finally:
            if status != "complete" and not resumed and recorder.recorded == 0:
                store._write("write to", lambda session: _delete_run(session, run_id))  # nothing to keep or resume
            else:
                recorder._end(status, error)


def _attach(store: ResultsStore, start: RunStart, resume: bool | int) -> tuple[int, bool]:
    """(run id, resumed): the run to continue, else a new one. A run that another live
    process is recording is not shared."""
    run_id: int | None = None
    if resume is True:
        run_id = store.find_resumable_run(start.config_hash)
    elif resume is not False:
        run_id = int(resume)
    if run_id is not None:
        found = run_id

        def take(session: Session) -> None:
            row = session.get(RunRow, found)
            if row is not None and row.status == "running" and holder_alive(row.holder, row.updated_at):
                raise RunConfigError(f"run {found} is being recorded right now by another process ({row.holder}); "
                                     "wait for it to finish, or pass --fresh for a run of your own")
            _end_run(session, found, "running", None, None)

        store._write("write to", take)
        return run_id, True

    def work(session: Session) -> int:
        return _insert_run(session, _agent_id(session, start.agent), start)

    return store._write("write to", work), False


# -- the writes, each inside a caller's transaction -----------------------------------------

def _agent_id(session: Session, identity: AgentIdentity) -> int:
    row = session.scalar(select(AgentRow).where(AgentRow.reference == identity.reference,
                                                AgentRow.content_hash == identity.content_hash,
                                                AgentRow.owner == identity.owner))
    if row is None:
        row = AgentRow(name=identity.name, reference=identity.reference, version=identity.version,
                       content_hash=identity.content_hash, owner=identity.owner)
        session.add(row)
        session.flush()
    return row.id


def _insert_run(session: Session, agent_id: int, start: RunStart) -> int:
    """A run in status 'running' with its tasks and their protocols."""
    run = RunRow(agent_id=agent_id, suite=start.suite, protocol_hash=start.protocol.hash, config_hash=start.config_hash,
                 config=dict(start.config), provenance=dict(start.provenance), status="running", kind=start.kind,
                 submission_id=start.submission_id, holder=this_process(),
                 algorithm=None if start.algorithm is None else start.algorithm.portable())
    session.add(run)
    session.flush()
    for position, task in enumerate(start.protocol):
        if session.get(ProtocolRow, task.hash) is None:
            stored = task.to_json()
            session.add(ProtocolRow(hash=task.hash, task_id=task.task_id, family=task.spec.family, spec=stored["spec"],
                                    seeds=stored["seeds"], episodes_per_seed=task.episodes_per_seed,
                                    simulator_versions=stored["simulator_versions"],
                                    metric_definitions=stored["metric_definitions"]))
            session.flush()
        session.add(RunTaskRow(run_id=run.id, task_id=task.task_id, position=position, protocol_hash=task.hash))
    session.flush()
    return run.id


def _insert_episodes(store: ResultsStore, connection: Connection, run_id: int, records: list[EpisodeRecord]) -> None:
    """Insert finished episodes (one already stored is skipped) and count them on the run."""
    if not records:
        return
    now = utcnow()
    runs = cast(Table, RunRow.__table__)
    inserted = store._episode_insert.execute(connection, run_id, now, records)
    connection.execute(update(runs).where(runs.c.id == run_id)
                       .values(updated_at=now, episode_count=runs.c.episode_count + inserted))
    # No per-seed means to drop: a run has them only once complete, and taking a run up
    # again (_attach) or ending it (_end_run) drops them before any episode is added.


def _delete_run(session: Session, run_id: int) -> None:
    """Remove a run with everything stored under it (episodes, per-seed means, task links)."""
    for table in (EpisodeRow, SeedMeanRow, RunTaskRow):
        session.execute(delete(table).where(table.run_id == run_id))
    session.execute(delete(RunRow).where(RunRow.id == run_id))


def _end_run(session: Session, run_id: int, status: str, error: str | None, summary: Mapping[str, Any] | None) -> None:
    from gymarena.results.store import seed_mean_aggregate

    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    now = utcnow()
    values: dict[str, Any] = {"status": status, "error": capped(error), "updated_at": now,
                              "finished_at": now if status == "complete" else None,
                              "holder": this_process() if status == "running" else None}
    if summary is not None:
        values["summary"] = dict(summary)
    session.execute(update(RunRow).where(RunRow.id == run_id).values(**values))
    session.execute(delete(SeedMeanRow).where(SeedMeanRow.run_id == run_id))
    if status == "complete":  # its episodes are final: average them once, here
        columns = [c.name for c in SeedMeanRow.__table__.columns]
        session.execute(insert(SeedMeanRow).from_select(columns, seed_mean_aggregate([run_id])))
