"""Does the leaderboard stay fast with 1M stored episodes under concurrent readers and
writers, and does it lose nothing?

Setup: a PostgreSQL database (``--db``, ``$GYMARENA_BENCH_DB``, else a throwaway cluster
started here as scripts/test does) filled through the results store with 100 complete
runs of a two-task suite (5 seeds x 1,000 episodes per task: 10,000 episodes each, 1M in
all, vacuumed), then ``gymarena serve --workers 2`` (``--server-workers``) on a local
port.

A reader is someone browsing the site: it opens a page of the mix, each equally likely
(suites, ranking page and its API, an agent page with its plot images, a run page at a
random page of its episodes and its API, random ids; the algorithms page, the social and
the safety boards, filled with the published baselines and two tested AVs; a page's time
includes its images),
reads it for 0.5 to 1.5 s (uniform), and opens the next. Baseline: 1 reader opening
pages one after another, without pauses, for 15 s; no writers. Measured ``--repeats`` (3)
times: ``--readers`` (100) of them for ``--seconds`` (60), while ``--writers`` (10)
processes evaluate: each streams episodes into new runs of the suite through the results
store (a batch of 50 every 0.25 s, as a fast evaluation commits them, 200 episodes a run)
and completes them, so the suite's stored rankings keep being recomputed under the load.
Writers start (import, connect) before each measured minute and write from its first
second on. Afterwards every written episode is counted back from the database, and the
repeat's runs are deleted (and the database vacuumed), so that every repeat measures the
same database. The git
commit measured is printed first; the p95 of every repeat, and their spread, at the end.

    python bench/server_load.py            # last line: ratio <worst repeat's p95 under load / p95 of the baseline>
Target: p95 under load < 100 ms in every repeat, nothing lost.

``measure()`` is the whole bench as a function: tests/leaderboard/test_load.py runs it
scaled down (a few runs, readers and seconds) and fails on errors or lost episodes.
"""

from __future__ import annotations

import argparse
import glob
import multiprocessing
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

SUITE = "bench-load@1"
SOCIAL_SUITE, CAV_SUITE = "social-core@1", "cav-highway@1"
TASKS = ("classic/CartPole-v1", "minigrid/DoorKey-5x5-v0")
SEEDS = (0, 1, 2, 3, 4)
EPISODES_PER_SEED = 1_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def throwaway_postgres():
    """A private PostgreSQL cluster on a free port, removed afterwards (needs Debian's postgresql)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        sys.exit("no PostgreSQL here: give --db postgresql://... or apt-get install postgresql")
    data = tempfile.mkdtemp(prefix="gymarena-bench-pg-")
    as_postgres = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*as_postgres, f"{bins[-1]}/initdb", "-D", data, "-A", "trust", "-U", "postgres"], check=True,
                   capture_output=True)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
    subprocess.run([*as_postgres, f"{bins[-1]}/pg_ctl", "-D", data, "-l", f"{data}/log", "-w", "-o", options, "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_postgres, f"{bins[-1]}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


WRITER_EPISODES_PER_SEED = 20
WRITER_PAUSE = 0.25  # s between a writer's commits: 200 episodes/s per writer, a fast evaluation's pace


def _protocol(episodes_per_seed: int = EPISODES_PER_SEED):
    from gymarena.installed import installed_protocol
    from gymarena.tasks import get_task

    return installed_protocol([get_task(t).with_episodes(episodes_per_seed) for t in TASKS], SEEDS)


def _records(run_index: int, skill: float, episodes_per_seed: int = EPISODES_PER_SEED):
    """One run's episodes: returns drawn around the agent's skill, success by the task's rule."""
    from gymarena.protocol import episode_seed
    from gymarena.records import EpisodeRecord

    rng = np.random.default_rng(run_index)
    for task in TASKS:
        cartpole = task.startswith("classic")
        for seed in SEEDS:
            for episode in range(episodes_per_seed):
                if cartpole:
                    length = int(np.clip(rng.normal(20 + 480 * skill, 40), 8, 500))
                    value, success = float(length), None
                else:
                    length = int(np.clip(rng.normal(250 - 200 * skill, 30), 10, 250))
                    value = max(0.0, 1 - 0.9 * length / 250) if length < 250 else 0.0
                    success = value > 0
                terminated = length < 500 if cartpole else bool(success)
                yield EpisodeRecord(task, seed, episode, episode_seed(seed, episode), value, length, success,
                                    terminated, not terminated, length, 0.01)


def _start(protocol, name: str):
    """What a bench run is stored under: every run of the bench shares the fill's protocol,
    so the ranking holds them all (writers play fewer episodes of it)."""
    from gymarena.results import AgentIdentity, RunStart

    agent = AgentIdentity(name, f"bench:{name}", "1", f"{abs(hash(name)):064x}"[-64:])
    return RunStart(agent, protocol, {"seeds": list(SEEDS)}, {"bench": True}, suite=SUITE)


def fill(db: str, runs: int, episodes_per_seed: int = EPISODES_PER_SEED) -> None:
    from gymarena.results import ResultsStore

    protocol = _protocol(episodes_per_seed)
    with ResultsStore(db) as store:
        for index in range(runs):
            records = list(_records(index, index / runs, episodes_per_seed))
            with store.recording(_start(protocol, f"agent-{index:03d}")) as run:
                for start in range(0, len(records), 5_000):
                    run.add(records[start:start + 5_000])
        _fill_boards(store)
        # A database holding 1M episodes has long been vacuumed and analysed; without this
        # PostgreSQL's autovacuum would do it (seconds of CPU) in the middle of the measured minute.
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")


def _fill_boards(store) -> None:
    """What the other boards hold on a real server: the published baselines (algorithm entries,
    the social board's reference players) and two AVs on the safety board."""
    from gymarena.baselines.publish import publish
    from gymarena.cavtest.suite import evaluate_cav_suite
    from gymarena.suites import load_suite

    publish(store, say=lambda line: None)
    for av in ("cav:idm", "cav:cautious"):
        evaluate_cav_suite(store, load_suite(CAV_SUITE), av, say=lambda line: None)


def _writer(db: str, seconds: float, written: multiprocessing.Queue, index: int, start) -> None:
    """Stream episodes into new runs in batches of 50 for ``seconds``, once every writer is
    ready (``start``: a barrier), finishing the run in hand; report what was written."""
    from gymarena.results import ResultsStore

    protocol = _protocol()
    with ResultsStore(db) as store:
        start.wait()
        stop_at = time.monotonic() + seconds
        round_ = 0
        while time.monotonic() < stop_at:
            records = list(_records(1000 + index * 100 + round_, random.random(), WRITER_EPISODES_PER_SEED))
            with store.recording(_start(protocol, f"writer-{index}-{round_}")) as run:
                for first in range(0, len(records), 50):
                    run.add(records[first:first + 50])
                    time.sleep(WRITER_PAUSE)  # the episodes of the next batch are being played
            written.put((run.run_id, len(records)))
            round_ += 1


def _page(run_ids: list[int], agent_ids: list[int], pick: random.Random) -> str:
    """One page of the mix, each equally likely, about a random run or agent."""
    run, agent = pick.choice(run_ids), pick.choice(agent_ids)
    return pick.choice(["/", f"/suites/{SUITE}", f"/api/suites/{SUITE}", f"/agents/{agent}",
                        f"/runs/{run}?page={pick.randint(1, 100)}", f"/api/runs/{run}", "/algorithms",
                        f"/suites/{SOCIAL_SUITE}", f"/suites/{CAV_SUITE}"])


def _reader(base: str, stop_at: float, run_ids: list[int], agent_ids: list[int], latencies: list, errors: list,
            think: bool = True) -> None:
    pick = random.Random()
    time.sleep(pick.uniform(0, 1.5))  # readers arrive spread out, not all at once
    while time.monotonic() < stop_at:
        path = _page(run_ids, agent_ids, pick)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(base + path, timeout=30) as answer:
                body = answer.read()
            for image in re.findall(rb'<img src="([^"]+)"', body):  # as a browser loads the page's plots
                with urllib.request.urlopen(urllib.parse.urljoin(base, image.decode()), timeout=30) as answer:
                    answer.read()
        except Exception as exc:
            errors.append(f"{path}: {exc}")
        else:
            latencies.append((path.split("?")[0].split("/")[1] + ("/" + path.split("/")[2] if path.startswith("/api") else ""),
                              time.perf_counter() - started))
        if think:
            time.sleep(pick.uniform(0.5, 1.5))  # reading it


def _read_phase(base: str, readers: int, seconds: float, run_ids, agent_ids, think: bool = True) -> tuple[list, list]:
    latencies: list = []
    errors: list = []
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=_reader, args=(base, stop_at, run_ids, agent_ids, latencies, errors, think))
               for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def _summary(label: str, latencies: list, say=print) -> float:
    times = np.array([t for _, t in latencies]) * 1000
    if not len(times):
        say(f"{label}: no requests")
        return float("nan")
    p50, p95 = np.percentile(times, [50, 95])
    say(f"{label}: {len(times):,} requests, p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    for page in sorted({p for p, _ in latencies}):
        page_times = np.array([t for p, t in latencies if p == page]) * 1000
        say(f"  {page or '/':<14} p50 {np.percentile(page_times, 50):7.1f} ms  p95 {np.percentile(page_times, 95):7.1f} ms")
    return float(p95)


@dataclass(frozen=True)
class Load:
    """The bench's scale: stored runs, readers and writers, seconds of each phase."""

    runs: int = 100
    episodes_per_seed: int = EPISODES_PER_SEED
    readers: int = 100
    writers: int = 10
    seconds: float = 60.0
    repeats: int = 3
    server_workers: int = 2
    warmup_seconds: float = 5.0
    baseline_seconds: float = 15.0


@dataclass
class Measured:
    """What a bench found: p95s in ms, reader errors, episodes written and lost."""

    baseline_p95: float
    loaded_p95: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    written: int = 0
    lost: int = 0


def _loaded_phase(db: str, base: str, load: Load, run_ids: list[int], agent_ids: list[int]) -> tuple[list, list, dict]:
    """One measured phase: readers while writers stream runs; (latencies, errors, {run: episodes written})."""
    spawn = multiprocessing.get_context("spawn")
    written: multiprocessing.Queue = spawn.Queue()
    start = spawn.Barrier(load.writers + 1)  # writers write from the first measured second on
    writers = [spawn.Process(target=_writer, args=(db, load.seconds + 5, written, i, start)) for i in range(load.writers)]
    for writer in writers:
        writer.start()
    start.wait()
    latencies, errors = _read_phase(base, load.readers, load.seconds, run_ids, agent_ids)
    for writer in writers:
        writer.join()
    claimed = {}
    while not written.empty():
        run_id, count = written.get()
        claimed[run_id] = count
    return latencies, errors, claimed


def measure(db: str, load: Load = Load(), say=print) -> Measured:
    """Fill ``db``, serve it, and measure the baseline and ``load.repeats`` loaded phases."""
    from gymarena.results import ResultsStore

    started = time.perf_counter()
    fill(db, load.runs, load.episodes_per_seed)
    say(f"stored {load.runs * len(TASKS) * len(SEEDS) * load.episodes_per_seed:,} episodes in "
        f"{time.perf_counter() - started:.0f} s")
    with ResultsStore(db) as store:
        runs = [r for r in store.list_runs() if r.suite == SUITE]
    run_ids, agent_ids = [r.id for r in runs], sorted({r.agent_id for r in runs})
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "gymarena", "serve", "--db", db, "--port", str(port),
                               "--workers", str(load.server_workers)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        _read_phase(base, 2, load.warmup_seconds, run_ids, agent_ids)  # warm both server processes' caches
        baseline, errors = _read_phase(base, 1, load.baseline_seconds, run_ids, agent_ids, think=False)
        measured = Measured(_summary("baseline (1 reader without pauses, no writers)", baseline, say), errors=errors)
        for repeat in range(load.repeats):
            latencies, errors, written = _loaded_phase(db, base, load, run_ids, agent_ids)
            measured.errors += errors
            label = f"under load, repeat {repeat + 1} of {load.repeats} ({load.readers} readers, {load.writers} writers)"
            measured.loaded_p95.append(_summary(label, latencies, say))
            measured.written += sum(written.values())
            measured.lost += _lost(db, written)
            _forget(db, written)  # every repeat starts from the filled database alone
    finally:
        server.terminate()
        server.wait()
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("GYMARENA_BENCH_DB"))
    parser.add_argument("--runs", type=int, default=Load.runs, help="complete runs stored first (10,000 episodes each)")
    parser.add_argument("--readers", type=int, default=Load.readers)
    parser.add_argument("--writers", type=int, default=Load.writers)
    parser.add_argument("--seconds", type=float, default=Load.seconds, help="of each measured phase")
    parser.add_argument("--repeats", type=int, default=Load.repeats, help="measured phases, each with fresh writers")
    parser.add_argument("--server-workers", type=int, default=Load.server_workers)
    args = parser.parse_args()
    from gymarena.provenance import git_commit, git_dirty

    print(f"measuring gymarena at commit {git_commit() or 'unknown'}{' (with uncommitted changes)' if git_dirty() else ''}")
    load = Load(runs=args.runs, readers=args.readers, writers=args.writers, seconds=args.seconds, repeats=args.repeats,
                server_workers=args.server_workers)
    with throwaway_postgres() if args.db is None else _given(args.db) as db:
        measured = measure(db, load)
    errors, worst = measured.errors, max(measured.loaded_p95)
    print(f"writers wrote {measured.written:,} episodes; errors: {len(errors)}{' e.g. ' + errors[0] if errors else ''}; "
          f"episodes lost: {measured.lost}")
    spread = ", ".join(f"{p95:.1f}" for p95 in measured.loaded_p95)
    print(f"p95 under load per repeat: {spread} ms (spread {worst - min(measured.loaded_p95):.1f} ms)")
    print(f"target p95 < 100 ms under load in every repeat: {'met' if worst < 100 else 'NOT met'} (worst {worst:.1f} ms)")
    print(f"ratio {worst / measured.baseline_p95:.2f}")


def _lost(db: str, claimed: dict[int, int]) -> int:
    """Episodes the writers said they stored that the database does not hold."""
    from gymarena.results import ResultsStore

    with ResultsStore(db) as store:
        stored = {r.id: r.episode_count for r in store.list_runs() if r.id in claimed}
    return sum(count - stored.get(run_id, 0) for run_id, count in claimed.items())


def _forget(db: str, written: dict[int, int]) -> None:
    """Delete a repeat's written runs and vacuum, so the next repeat measures the same database."""
    from gymarena.results import ResultsStore

    with ResultsStore(db) as store:
        for run_id in written:
            store.delete_run(run_id)
        if store.engine.dialect.name == "postgresql":
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")


@contextmanager
def _given(db: str):
    yield db


def _wait(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/api/suites", timeout=5).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start within 60 s")


if __name__ == "__main__":
    main()
