"""How long a user waits for gymarena to start: ``import gymarena`` against ``import gymnasium``.

Each import is timed inside a fresh interpreter (from just before the import statement to
just after it), ``--repeats`` times, the two alternating so that both see the same machine;
the medians are compared. ``import gymarena`` loads its catalog and registers every task
with Gymnasium, and must not load the results store (SQLAlchemy, Alembic), the CLI
(Typer, Rich) or a simulator. ``gymarena --help`` is timed as a whole process.

    python bench/startup.py [--repeats 21]

The last line is the ratio of the median ``import gymarena`` to the median ``import
gymnasium`` (the goal: at most 1.3).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
HEAVY = ("sqlalchemy", "alembic", "typer", "rich", "torch", "scipy", "pandas", "mujoco", "nle", "metaworld", "minigrid")
LOADED = "import sys, gymarena; print(','.join(m for m in {heavy!r} if m in sys.modules))"


def import_seconds(module: str) -> float:
    out = subprocess.run([sys.executable, "-c", TIMED.format(module=module)], capture_output=True, text=True, check=True)
    return float(out.stdout)


def help_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gymarena", "--help"], capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="import gymarena vs import gymnasium, in fresh interpreters")
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    import_seconds("gymarena")  # compile and cache the bytecode first: users run it more than once
    times: dict[str, list[float]] = {"gymnasium": [], "gymarena": []}
    for _ in range(args.repeats):
        for module in times:
            times[module].append(import_seconds(module))
    helps = [help_seconds() for _ in range(max(3, args.repeats // 3))]
    loaded = subprocess.run([sys.executable, "-c", LOADED.format(heavy=HEAVY)], capture_output=True, text=True,
                            check=True).stdout.strip()
    for module, values in times.items():
        print(f"import {module:10} median {statistics.median(values) * 1000:7.1f} ms "
              f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f}; {len(values)} fresh interpreters)")
    print(f"gymarena --help   median {statistics.median(helps) * 1000:7.1f} ms (whole process, {len(helps)} runs)")
    print(f"heavy modules loaded by import gymarena: {loaded or 'none'}")
    print(f"ratio {statistics.median(times['gymarena']) / statistics.median(times['gymnasium']):.2f}")


if __name__ == "__main__":
    main()
