"""How long ``gymarena leaderboard`` takes on the social board with the published runs,
against the same command on ``quickstart`` (the baseline: a small scores board), both as a
user runs them: whole processes over one database holding every published baseline run.

The social board fits a Bradley-Terry rating and a bootstrap of it over games (200
refits); the goal is under 2 s whatever the machine, so the baseline is printed beside it.

    python bench/leaderboard_cli.py [--repeats 7]

The last line is the ratio of the social board's median to quickstart's.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def seconds(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gymarena", *args], capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="gymarena leaderboard: social-core@2 vs quickstart")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        db = str(Path(directory) / "published.sqlite")
        subprocess.run([sys.executable, "-m", "gymarena", "baselines", "publish", "--db", db], capture_output=True, check=True)
        times: dict[str, list[float]] = {"quickstart": [], "social-core@2": []}
        for _ in range(args.repeats):  # alternating, so that both see the same machine
            for suite in times:
                times[suite].append(seconds("leaderboard", "--suite", suite, "--db", db))
    for suite, values in times.items():
        print(f"gymarena leaderboard --suite {suite:14} median {statistics.median(values):.2f} s "
              f"(min {min(values):.2f}, max {max(values):.2f}; {len(values)} runs)")
    print(f"ratio {statistics.median(times['social-core@2']) / statistics.median(times['quickstart']):.2f}")


if __name__ == "__main__":
    main()
