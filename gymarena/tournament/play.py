"""A social board's suite played: one run of the agent under test, its episodes the games
against the suite's pool (tasks.OpponentPool: which game of a seed meets which opponent in
which role), written through the run recorder like any run.

Every game's record is the runner's multi-agent record of that game (its per-seat returns
and the game's metrics) with what the board ranks on: ``opponent``, ``role`` (the tested
agent's) and ``won`` (1 if the tested agent's side won, 0 if it lost, 0.5 if the game ran
out of steps without a winner). The same command again continues an unfinished run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gymarena.agents import AgentSource, load_agent
from gymarena.errors import GymarenaError
from gymarena.fingerprints.drift import run_provenance
from gymarena.installed import pinned_digest, player_pin, suite_protocol
from gymarena.protocol import TaskProtocol
from gymarena.records import AlgorithmIdentity, EpisodeKey, EpisodeRecord
from gymarena.results import ResultsStore, RunStart
from gymarena.suites import Suite
from gymarena.tasks import Opponent
from gymarena.tournament.games import IMPOSTOR, Matchup


def outcome_of(record: EpisodeRecord, role: str) -> float:
    """The tested side's result: 1 won, 0 lost, 0.5 no winner."""
    winner = record.extra.get("winner")
    if winner not in ("crew", "impostors"):
        return 0.5
    return float((winner == "impostors") == (role == IMPOSTOR))


def _opponent(opponent: Opponent, pinned: str, family: str) -> AgentSource:
    source = load_agent(opponent.reference)
    if player_pin(source, family) != pinned:
        raise GymarenaError(f"the pool's {opponent.name!r} ({opponent.reference}) is another version than when the suite "
                            "was read; restart to play under the pool as installed now")
    return source


def evaluate_social_suite(store: ResultsStore, suite: Suite, tested: str | AgentSource,
                          seeds: Sequence[int] | None = None, kind: str = "local", submission_id: int | None = None,
                          fresh: bool = False, algorithm: AlgorithmIdentity | None = None,
                          say: Callable[[str], None] = print, progress: Callable[[int, int], None] | None = None) -> int:
    """Play the suite's games of ``tested`` (a reference or a loaded source, such as the
    worker's sandboxed one); the run's id. ``progress(done, total)`` follows the games."""
    source = load_agent(tested) if isinstance(tested, str) else tested
    protocol = suite_protocol(str(suite.path), tuple(seeds) if seeds else None)
    config = {"agent": source.reference, "suite": suite.label, "seeds": list(protocol.seeds),
              "tasks": [{"id": t.spec.id, "episodes": t.spec.episodes, "decision_intervals": [1]} for t in protocol],
              "pool": [o.name for t in protocol if t.spec.pool for o in t.spec.pool.opponents]}
    start = RunStart(source.identity, protocol, config, run_provenance(protocol), kind=kind,
                     suite=suite.label, settings={"board": "social"}, submission_id=submission_id,
                     algorithm=algorithm)
    if not fresh and (done := store.find_complete_run(start.config_hash)) is not None:
        say(f"run {done} already holds these games (complete); nothing was played. --fresh plays them again")
        return done
    with store.recording(start, resume=not fresh) as run:
        stored = run.stored_keys()
        total = sum(task.expected_episodes for task in protocol)
        done = len(stored)

        def put(record: EpisodeRecord) -> None:
            nonlocal done
            run.put(record)
            done += 1
            if progress is not None:
                progress(done, total)

        if progress is not None:
            progress(done, total)
        for task in protocol:
            keys = [k for k in task.episode_keys() if k not in stored]
            if keys:
                _play_task(task, keys, source, put)
                say(f"{task.task_id}: {len(keys)} games played")
    return run.run_id


def _play_task(protocol: TaskProtocol, keys: list[EpisodeKey], source: AgentSource,
               put: Callable[[EpisodeRecord], None]) -> None:
    """Play the task's games of ``keys``, each record to ``put`` as it finishes."""
    from gymarena.runner.multiagent import action_checks, agent_spaces, run_parallel_episode
    from gymarena.wrappers import make_env

    task = protocol.spec
    if task.pool is None:
        raise GymarenaError(f"{task.id} is not played against a pool; a social board's suite plays its tasks so")
    env = make_env(task)  # first: a family not installed here says so, and how to install it
    opponents = {o.name: _opponent(o, pinned_digest(protocol.simulator_versions, o), task.family) for o in task.pool.opponents}
    try:
        observation_spaces, action_spaces = agent_spaces(env)
        checks = action_checks(action_spaces)
        tested = source.make(task, observation_spaces, action_spaces)
        made = {name: _made(name, o, task, observation_spaces, action_spaces) for name, o in opponents.items()}
        for key in keys:
            opponent, role = task.pool.matchup(key.episode)
            record = run_parallel_episode(env, Matchup(tested, made[opponent.name], role), task, key, checks, source.name)
            record.extra.update(opponent=opponent.name, role=role, won=outcome_of(record, role))
            put(record)
    finally:
        env.close()


def _made(name: str, opponent: AgentSource, task: Any, observation_spaces: Any, action_spaces: Any) -> Any:
    """A pool player for the task; one that imports what is not installed here says what to install."""
    try:
        return opponent.make(task, observation_spaces, action_spaces)
    except GymarenaError as exc:
        if not isinstance(exc.__cause__, ImportError):
            raise
        raise GymarenaError(f"the pool's player {name!r} cannot play here: {exc}; install what it imports (the "
                            "trained crews of social-core@2 need torch: pip install 'gymarena[baselines]')") from None


def social_suite(request: Any) -> Suite | None:
    """The social board suite an ``EvalRequest`` names, or None (then the runner plays it);
    its games are set by its pool, so the runner's options are refused."""
    from gymarena.suites import board_suite

    return board_suite(request, "social", {"--episodes": request.episodes, "--workers": request.workers > 1,
                                           "--backend": request.backend, "--batch": request.batch > 1})
