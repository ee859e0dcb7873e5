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


# The layers of the package, from the ground up (../shared/ARCHITECTURE.md): a module imports
# only modules of its own layer or of a layer below. Each unit is a top-level module or package.
LAYERS = (
    ("ground", {"errors", "seeding", "records", "success", "parsed_files", "versions", "quiet", "output", "devices"}),
    ("definitions", {"tasks", "specfile", "metrics", "provenance", "protocol", "catalog", "agents", "scoring"}),
    ("simulators", {"envs", "wire", "runtimes", "wrappers"}),
    ("protocols and stores", {"suites", "installed", "fingerprints", "results", "datasets"}),
    ("running", {"runner"}),
    ("applications", {"tournament", "cavtest", "baselines", "recording", "dataset_suite"}),
    ("faces", {"leaderboard", "reports", "views", "cli"}),
)
# Units of one layer that import each other: the isolated runtimes are found by the wrappers
# (runtimes/registry.py, remote_env.py) and serve the wrappers' envs (env_server.py, install.py).
MUTUAL = {frozenset({"runtimes", "wrappers"})}


def _unit_imports() -> dict[str, set[str]]:
    """Per unit (top-level module or package of gymarena), the other units it imports."""
    units: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if parts in (("__init__.py",), ("__main__.py",)):
            continue  # the package's face: its public API, imported lazily
        unit = parts[0].removesuffix(".py")
        found = units.setdefault(unit, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "gymarena" else [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            found.update(n.split(".")[1] for n in names if n.startswith("gymarena.") and n.split(".")[1] != unit)
    return {unit: names & set(units) for unit, names in units.items()}  # not the root's API names (__version__)


def test_every_unit_has_a_layer_and_imports_nothing_above_it():
    layer_of = {unit: depth for depth, (_, units) in enumerate(LAYERS) for unit in units}
    imports = _unit_imports()
    assert set(imports) == set(layer_of), f"units without a layer: {sorted(set(imports) - set(layer_of))}"
    upward = {unit: sorted(n for n in names if layer_of[n] > layer_of[unit]) for unit, names in imports.items()}
    assert {unit: names for unit, names in upward.items() if names} == {}


def test_no_units_import_each_other_but_the_declared_pairs():
    imports = _unit_imports()
    mutual = {frozenset({a, b}) for a, names in imports.items() for b in names if a in imports.get(b, set())}
    assert mutual <= MUTUAL, mutual - MUTUAL


def test_the_ground_modules_import_no_simulator_no_store_and_no_baselines():
    for name in ("protocol.py", "agents.py", "versions.py", "tasks.py"):
        offending = _offending({name: _imports(PACKAGE / name)}, "gymarena.baselines", "gymarena.wrappers",
                               "gymarena.results", "gymarena.runner", "gymarena.suites", "gymarena.tournament")
        assert offending == {}, offending
