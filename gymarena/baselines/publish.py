"""Reference entries for any results database: the trained baselines' evaluations.

``gymarena baselines evaluate`` plays every trained checkpoint of an algorithm and seed on
what it can fill: each suite whose every task has a recipe of the algorithm (a leaderboard
entry), else each recipe's task alone on the default seeds. With ``--export DIR`` each run
is also written as a document (``gymarena/results/exchange.py``); the documents in
``gymarena/baselines/published/`` were made so, and ``gymarena baselines publish --db URL``
stores them in any database, so a fresh leaderboard has reference entries without training.
The social board's reference players are published too (:data:`BOARD_REFERENCES`,
``gymarena baselines evaluate --boards``). Each training seed's checkpoint is one training run of its algorithm
(:func:`~gymarena.baselines.algorithms.baseline_algorithm`), so a leaderboard ranks PPO,
DQN and SAC as three entries over their runs.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from gymarena.baselines.algorithms import ALGORITHM_MODULES, baseline_algorithm, task_recipes, unavailable
from gymarena.baselines.training import find_checkpoint
from gymarena.errors import GymarenaError
from gymarena.results import ResultsStore
from gymarena.results.exchange import export_run, import_run
from gymarena.runner import EvalRequest, evaluate
from gymarena.suites import list_suites

PUBLISHED_DIR = Path(__file__).parent / "published"


def agent_reference(name: str, seed: int) -> str:
    """The agent of an algorithm's (its first recipe per task) or one recipe's checkpoints."""
    return f"gymarena.baselines.trained:{name.replace('-', '_')}_seed{seed}"


def evaluation_requests(algorithm: str, seed: int) -> list[EvalRequest]:
    """What a seed's checkpoints are evaluated on: an algorithm whose module names ``BOARDS``
    (the crew recipes) plays each recipe on each of those social boards; the others, the
    suites their recipes cover whole, then their other recipes' tasks alone."""
    from gymarena.baselines.algorithms import hook, module, recipe_algorithm

    boards = hook(algorithm, "BOARDS")
    if boards:
        return [EvalRequest(suite=board, agent=agent_reference(r.name, seed), algorithm=recipe_algorithm(r))
                for r in module(algorithm).RECIPES for board in boards]
    first_recipes = task_recipes(algorithm)
    agent = agent_reference(algorithm, seed)
    trained = baseline_algorithm(algorithm)  # each seed's checkpoint is one training run of it
    requests, covered = [], set()
    for suite in list_suites():
        task_ids = {task.id for task in suite.tasks}
        if task_ids <= first_recipes.keys():
            requests.append(EvalRequest(suite=suite.name, agent=agent, algorithm=trained))
            covered |= task_ids
    requests += [EvalRequest(tasks=(task_id,), agent=agent, algorithm=trained) for task_id in first_recipes
                 if task_id not in covered]
    return requests


def _missing_checkpoints(request: EvalRequest) -> list[str]:
    """The recipes whose checkpoints the request's agent would need but are not trained here."""
    from gymarena.baselines import trained
    from gymarena.suites import load_suite

    task_ids = [t.id for t in load_suite(request.suite).tasks] if request.suite else list(request.tasks)
    agents = getattr(trained, request.agent.rpartition(":")[2])
    return [agents.recipes[t].name for t in task_ids if find_checkpoint(agents.recipes[t], agents.seed) is None]


def document_name(request: EvalRequest) -> str:
    """``ppo-seed0-quickstart.json.gz``, ``social-speaking-seed1-social-core-2.json.gz``."""
    subject = (request.suite or request.tasks[0]).replace("/", "-").replace("@", "-")
    return f"{request.agent.rpartition(':')[2].replace('_', '-')}-{subject}.json.gz"


def _evaluate(store: ResultsStore, request: EvalRequest, say: Callable[[str], None]) -> int:
    """One request's run: a social board's games against its pool, else the runner's."""
    from gymarena.tournament.play import evaluate_social_suite, social_suite

    social = social_suite(request)
    if social is not None:
        return evaluate_social_suite(store, social, request.agent, algorithm=request.algorithm, say=say)
    return evaluate(request, store).run.id


def evaluate_baselines(store: ResultsStore, algorithms: Sequence[str], seeds: Sequence[int], export: Path | None,
                       say: Callable[[str], None] = print) -> list[int]:
    """Evaluate every trained checkpoint of the algorithms and seeds; returns the run ids."""
    unknown = [a for a in algorithms if a not in ALGORITHM_MODULES]
    if unknown:
        raise GymarenaError(f"unknown algorithm(s) {', '.join(unknown)}; choose from {', '.join(ALGORITHM_MODULES)}")
    run_ids = []
    missing_extras = unavailable()
    for algorithm in algorithms:
        if algorithm in missing_extras:
            say(f"skipped {algorithm}: {missing_extras[algorithm]}")
            continue
        for seed in seeds:
            for request in evaluation_requests(algorithm, seed):
                agent = request.agent.rpartition(":")[2]
                subject = request.suite or request.tasks[0]
                missing = _missing_checkpoints(request)
                if missing:
                    say(f"skipped {agent} on {subject}: no checkpoint of {', '.join(missing)}")
                    continue
                run_id = _evaluate(store, request, say)
                run_ids.append(run_id)
                say(f"{agent} on {subject}: run {run_id}")
                if export is not None:
                    _write_document(store, run_id, export / document_name(request))
    return run_ids


# The reference players of the boards a server evaluates itself, published so a fresh
# server's social board is not empty: each plays the board's games like any agent.
BOARD_REFERENCES = {
    "social-core@1": ("scripted", "gymarena.baselines.scripted.social:make_deaf_agent", "random"),
    "social-core@2": ("scripted", "gymarena.baselines.scripted.social:make_deaf_agent", "random",
                      "gymarena.baselines.social_rl.hunter:make_agent", "gymarena.baselines.social_rl.shipped:crew_win",
                      "gymarena.baselines.social_rl.shipped:crew_speaking"),
}


def board_document_name(suite: str, reference: str) -> str:
    """``board-social-core-2-crew-speaking.json.gz``: named by the player's name in the board's pool."""
    from gymarena.suites import load_suite

    names = {o.reference: o.name for task in load_suite(suite).tasks if task.pool for o in task.pool.opponents}
    player = names.get(reference, reference.rpartition(":")[2].replace("_", "-"))
    return f"board-{suite.replace('@', '-')}-{player}.json.gz"


def evaluate_board_references(store: ResultsStore, export: Path | None, say: Callable[[str], None] = print) -> list[int]:
    """Play each board's reference players (BOARD_REFERENCES) on its public seeds; the run ids."""
    from gymarena.suites import load_suite
    from gymarena.tournament.play import evaluate_social_suite

    run_ids = []
    for suite, references in BOARD_REFERENCES.items():
        for reference in references:
            run_id = evaluate_social_suite(store, load_suite(suite), reference, say=say)
            run_ids.append(run_id)
            say(f"{reference} on {suite}: run {run_id}")
            if export is not None:
                _write_document(store, run_id, export / board_document_name(suite, reference))
    return run_ids


def _write_document(store: ResultsStore, run_id: int, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = json.dumps(export_run(store, run_id), sort_keys=True).encode()
    path.write_bytes(gzip.compress(document, mtime=0))


def publish(store: ResultsStore, source: Path = PUBLISHED_DIR, say: Callable[[str], None] = print) -> list[int]:
    """Store every published baseline run in ``store`` (once: publishing twice adds nothing)."""
    paths = sorted(source.glob("*.json.gz"))
    if not paths:
        raise GymarenaError(f"no published baseline results in {source}")
    run_ids = []
    for path in paths:
        try:
            document = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, ValueError) as exc:
            raise GymarenaError(f"{path}: not a gzipped run document ({exc})") from None
        run_id, new = import_run(store, document, f"gymarena baselines: {path.name}")
        run_ids.append(run_id)
        say(f"{path.name}: {'stored as' if new else 'already stored as'} run {run_id}")
    return run_ids
