"""The rules of the house that imports show (../shared/ARCHITECTURE.md): environments are
leaves, only the leaderboard's worker runs the runner, only results/ speaks SQL, and the
metrics and the scoring are pure."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "gymarena"


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside functions."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(folder: str) -> dict[str, set[str]]:
    return {str(p.relative_to(PACKAGE)): _imports(p) for p in sorted((PACKAGE / folder).rglob("*.py"))}


def _offending(modules: dict[str, set[str]], *prefixes: str) -> dict[str, list[str]]:
    found = {path: sorted(n for n in names if n.startswith(prefixes)) for path, names in modules.items()}
    return {path: names for path, names in found.items() if names}


def test_environments_are_leaves():
    assert _offending(_modules("envs"), "gymarena.results", "gymarena.runner", "gymarena.leaderboard") == {}


def test_only_the_leaderboard_worker_imports_the_runner():
    offending = _offending(_modules("leaderboard"), "gymarena.runner")
    assert set(offending) <= {"leaderboard/worker.py"}, offending


def test_only_results_speaks_sql():
    everything = {str(p.relative_to(PACKAGE)): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}
    offending = _offending({p: n for p, n in everything.items() if not p.startswith("results/")}, "sqlalchemy", "alembic")
    assert offending == {}


def test_metrics_and_scoring_are_pure():
    pure = {**_modules("metrics"), "scoring.py": _imports(PACKAGE / "scoring.py")}
    assert _offending(pure, "gymarena.results", "gymarena.runner", "gymarena.wrappers", "gymarena.leaderboard",
                      "sqlalchemy", "gymnasium") == {}


def test_the_runner_knows_no_simulator_by_name():
    simulators = ("minigrid", "mujoco", "metaworld", "nle", "highway_env", "sumo_rl", "pysc2", "gym_super_mario_bros",
                  "pettingzoo", "gymarena.envs")
    assert _offending(_modules("runner"), *simulators) == {}
