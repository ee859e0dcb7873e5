"""The results store: schema and migrations, idempotent writes, any SQLAlchemy URL, clear failures."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from gymarena.errors import ResultsStoreError
from gymarena.records import EpisodeRecord
from gymarena.results import AgentIdentity, ResultsStore, RunProtocol, RunStart, TaskProtocol, resolve_db_url
from gymarena.results.migrations_runner import SCHEMA_REVISION, alembic_config, current_revision
from gymarena.results.models import Base
from gymarena.tasks import get_task


def test_migrations_build_exactly_the_models(store):
    assert current_revision(store.engine) == SCHEMA_REVISION
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_schema_revision_is_the_migration_head(store):
    assert ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head() == SCHEMA_REVISION


PROTOCOL = RunProtocol((TaskProtocol(get_task("classic/CartPole-v1").with_episodes(2), (0,), {"gymnasium": "1.2.0"}),))
START = RunStart(AgentIdentity("a", "pkg:a", "1", "0" * 64), PROTOCOL, {"seeds": [0]}, {"python": "3"})


def _write(store: ResultsStore, records: list[EpisodeRecord], end: type[BaseException] | None = KeyboardInterrupt,
           resume: bool | int = True) -> int:
    """Record episodes into the run of START (resuming it), ending it complete (end=None)
    or as the exception ``end`` ends it."""
    try:
        with store.recording(START, resume=resume) as run:
            run.add(records)
            if end is not None:
                raise end()
    except BaseException as exc:
        if end is None or not isinstance(exc, end):
            raise
    return run.run_id


def _run(store: ResultsStore) -> int:
    """An interrupted run of START holding one episode."""
    return _write(store, [_record(0)])


def _record(episode: int, seed: int = 2**32 - 1) -> EpisodeRecord:
    return EpisodeRecord(
        task_id="classic/CartPole-v1", seed=seed, episode=episode, episode_seed=4_000_000_000 + episode,
        episode_return=1.5 * episode, length=10, success=None, terminated=True, truncated=False,
        env_steps=10, wall_seconds=0.01, agent_returns={"a": 1.0}, extra={"crash": False},
    )


def test_episodes_round_trip_and_duplicates_are_ignored(store):
    run_id = _write(store, [_record(0), _record(1)])
    assert _write(store, [_record(1), _record(2)]) == run_id  # a resumed run re-sending episode 1
    stored = store.episodes(run_id)
    assert [r.episode for r in stored] == [0, 1, 2]
    assert stored[1] == _record(1)  # large seeds, JSON fields and floats survive
    assert store.get_run(run_id).episode_count == 3


def test_a_complete_run_keeps_its_seed_means_and_more_episodes_replace_them(db_url):
    with ResultsStore(db_url) as store:
        run_id = _write(store, [_record(0, seed=1), _record(1, seed=1), _record(0, seed=2)])
        aggregated = store.seed_means([run_id])  # interrupted: aggregated from the episodes
        _write(store, [], end=None)
    with ResultsStore(db_url) as store:  # a new store object: nothing cached
        assert store.seed_means([run_id]) == aggregated
        with store.engine.connect() as connection:  # read from the means stored at completion
            assert connection.exec_driver_sql("SELECT count(*) FROM seed_means").scalar() == 2
        _write(store, [_record(1, seed=2)], resume=run_id)
    with ResultsStore(db_url) as store:
        by_seed = {m.seed: (m.episodes, m.mean_return) for m in store.seed_means([run_id])}
        assert by_seed == {1: (2, 0.75), 2: (2, 0.75)}


def test_status_transitions(store):
    run_id = _run(store)
    assert store.get_run(run_id).status == "interrupted"
    assert store.find_resumable_run(START.config_hash) == run_id
    _write(store, [], end=None)
    run = store.get_run(run_id)
    assert run.status == "complete" and run.finished_at is not None
    assert store.find_resumable_run(START.config_hash) is None


@pytest.mark.parametrize("end", [KeyboardInterrupt, ValueError])
def test_a_run_that_ends_before_its_first_episode_leaves_nothing(store, end):
    assert _write(store, [], end=end) is not None
    assert store.list_runs() == [] and store.find_resumable_run(START.config_hash) is None


def test_reopening_an_existing_database_keeps_its_rows(sqlite_url):
    with ResultsStore(sqlite_url) as first:
        run_id = _run(first)
    with ResultsStore(sqlite_url) as second:
        assert second.get_run(run_id) is not None


def test_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ResultsStoreError) as info:
        ResultsStore(f"sqlite:///{blocker / 'results.sqlite'}")
    message = str(info.value)
    assert "cannot create the directory" in message and "--db" in message


def test_not_a_url():
    with pytest.raises(ResultsStoreError, match="is not a database URL"):
        ResultsStore("postgres ql://nope")


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(ResultsStoreError, match=r"cannot open the results database postgresql://u:\*\*\*@127.0.0.1:1/x"):
        ResultsStore("postgresql://u:secret@127.0.0.1:1/x?connect_timeout=2")


def test_db_url_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("GYMARENA_DB", raising=False)
    assert resolve_db_url(None).endswith("gymarena/results.sqlite")
    assert resolve_db_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.setenv("GYMARENA_DB", "postgresql://h/db")
    assert resolve_db_url(None) == "postgresql://h/db"
    assert resolve_db_url("sqlite:///y.db") == "sqlite:///y.db"


def test_processes_opening_a_new_database_at_once_take_turns(db_url):
    import subprocess
    import sys

    code = "import sys; from gymarena.results import ResultsStore; ResultsStore(sys.argv[1]).close()"
    openers = [subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE, text=True) for _ in range(6)]
    errors = [p.communicate(timeout=120)[1] for p in openers]
    assert [p.returncode for p in openers] == [0] * 6, errors
    with ResultsStore(db_url) as store:
        assert current_revision(store.engine) == SCHEMA_REVISION


def test_schema_creation_is_one_transaction(sqlite_url):
    """DDL runs inside the migration's transaction: a rollback leaves no table behind."""
    from sqlalchemy import create_engine, inspect, text

    from gymarena.results.sqlite import configure_sqlite

    engine = create_engine(sqlite_url)
    configure_sqlite(engine)
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("CREATE TABLE half_done (x INTEGER)"))
        transaction.rollback()
        assert not inspect(connection).has_table("half_done")
    engine.dispose()


def test_a_missing_database_driver_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_psycopg(name, *args, **kwargs):
        if name.startswith("psycopg"):
            raise ImportError("No module named 'psycopg'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(ResultsStoreError, match=r"pip install 'gymarena\[postgres\]'"):
        ResultsStore("postgresql://user@127.0.0.1:1/x")


def test_a_row_inserted_by_another_process_meanwhile_is_found_on_retry(store, monkeypatch):
    """ensure_agent reads, then inserts: if another writer inserted between the two, the
    unique key rejects ours and the retried read finds theirs."""
    from sqlalchemy.orm import Session

    from gymarena.results.recorder import _agent_id

    identity = AgentIdentity("a", "pkg:a", "1", "0" * 64)
    theirs = store._write("write to", lambda session: _agent_id(session, identity))
    real_scalar = Session.scalar
    calls = []

    def first_read_misses(self, *args, **kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real_scalar(self, *args, **kwargs)

    monkeypatch.setattr(Session, "scalar", first_read_misses)
    assert store._write("write to", lambda session: _agent_id(session, identity)) == theirs
    assert len(calls) == 2


def test_a_database_from_a_newer_gymarena_is_refused_clearly(sqlite_url):
    from sqlalchemy import text

    with ResultsStore(sqlite_url) as store, store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    with pytest.raises(ResultsStoreError, match=r"schema revision '0099_future'.*newer gymarena"):
        ResultsStore(sqlite_url)


def test_upgrading_a_first_schema_database_keeps_its_episodes(db_url):
    """A database of the first schema keeps its runs and episodes through every migration
    (SQLite rebuilds altered tables), and its episodes become decision interval 1."""
    from alembic import command
    from sqlalchemy import create_engine

    with ResultsStore(db_url) as store:
        run_id = _write(store, [_record(0), _record(1)], end=None)
        means = store.seed_means([run_id])
    engine = create_engine(db_url)
    config = alembic_config(engine)
    with engine.begin() as connection:  # back to the first schema, episodes kept
        config.attributes["connection"] = connection
        command.downgrade(config, "0001_initial")
    engine.dispose()
    with ResultsStore(db_url) as store:
        assert current_revision(store.engine) == SCHEMA_REVISION
        episodes = store.episodes(run_id)
        assert [(r.episode, r.decision_interval) for r in episodes] == [(0, 1), (1, 1)]
        with store.engine.connect() as connection:  # the upgrade stored complete runs' means
            assert connection.exec_driver_sql("SELECT count(*) FROM seed_means").scalar() == 1
        assert store.seed_means([run_id]) == means
        _write(store, [_record(1)], end=None, resume=run_id)  # the unique key still refuses a duplicate
        assert store.get_run(run_id).episode_count == 2
        assert store.get_run(run_id).protocol.task_ids == ["classic/CartPole-v1"]  # rebuilt runs kept its tasks
        if store.engine.dialect.name == "sqlite":  # keys were off while tables were rebuilt, and are on again
            with store.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
