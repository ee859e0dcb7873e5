"""The leaderboard under load, scaled down: bench/server_load.py's own readers and writers
against a served database for a few seconds. It fails on a reader's error or a lost
episode, never on a timing (the full bench in bench/ measures those)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).parents[2] / "bench"


def _bench():
    """bench/server_load.py as a module its spawned writers can import again (by name, from sys.path)."""
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    return importlib.import_module("server_load")


def test_pages_answer_and_no_episode_is_lost_while_writers_stream_runs(db_url):
    bench = _bench()
    load = bench.Load(runs=3, episodes_per_seed=20, readers=6, writers=2, seconds=3.0, repeats=2,
                      warmup_seconds=1.0, baseline_seconds=1.0)
    measured = bench.measure(db_url, load, say=lambda line: None)
    assert measured.errors == []
    assert measured.written > 0 and measured.lost == 0
    assert len(measured.loaded_p95) == 2 and all(p95 == p95 for p95 in measured.loaded_p95)  # every phase answered

