"""The leaderboard worker: takes queued agent submissions and evaluates them sandboxed.

Each submission is claimed atomically (two workers never take the same one), unpacked
into a private directory, and evaluated on the suite's hidden seeds by the ordinary
runner, with every agent call going to a sandboxed process (sandbox.py). The agent's
resets get seeds keyed by the hidden seeds' secret salt (protocol.agent_seed), never the
episode seeds. The run is stored as ``verified``, its agent owned by the submitting
token. Whatever the agent does, the worker goes on: a broken limit, an exception, a
protocol breach or the submission's deadline fails that submission with the reason
(capped) and the tail of the agent's log, and every sandbox it started is killed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gymarena.agents import AgentSource
from gymarena.errors import GymarenaError
from gymarena.leaderboard.boards import board, board_of_suite
from gymarena.leaderboard.packages import Manifest, package_digests, unpack
from gymarena.leaderboard.sandbox import Limits, SandboxedAgent, require_sandbox, submission_budget, tail
from gymarena.records import AlgorithmIdentity
from gymarena.results import ResultsStore
from gymarena.results.heartbeat import Heartbeat, this_process
from gymarena.results.submissions import SubmissionInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    limits: Limits = field(default_factory=Limits)
    poll_seconds: float = 2.0
    sandboxed: bool = True
    # the worker as a lease holder (host:pid:start): on its own host, its death is seen at once
    name: str = field(default_factory=this_process)


def verified_seeds(store: ResultsStore, suite: str) -> tuple[tuple[int, ...], bytes]:
    """The suite version's hidden seeds (as many as its public ones) and the key of its
    agents' seeds (the seeds' salt)."""
    from gymarena.suites import registered_suite

    seeds, salt = store.submissions.hidden_seed_set(suite, len(registered_suite(suite).seeds))
    return tuple(seeds), salt.encode()


def rotate_hidden_seeds(store: ResultsStore, suite: str):
    """Reveal a suite version's hidden seeds and draw as many new ones as it has public
    seeds; (the suite's label, the new commitment)."""
    from gymarena.suites import load_suite

    loaded = load_suite(suite)
    return loaded.label, store.submissions.rotate_seeds(loaded.label, len(loaded.seeds))


def evaluate_submission(store: ResultsStore, submission: SubmissionInfo, config: WorkerConfig) -> None:
    """Evaluate one claimed submission and record how it ended (never raises for the agent's faults).

    A package that lists checkpoints is an algorithm: each checkpoint is evaluated as one
    verified run of it. Its runs stand or fall together: if one checkpoint fails, the
    runs of the others are hidden with the reason, so a submitter cannot drop its weak
    checkpoints by making them fail."""
    from gymarena.installed import suite_protocol

    workspace = Path(tempfile.mkdtemp(prefix=f"gymarena-submission-{submission.id}-"))
    workspace.chmod(0o755)
    log_path = workspace / "agent.log"
    sandboxes: list[SandboxedAgent] = []
    try:
        archive = store.submissions.archive(submission.id)
        if archive is None:
            raise GymarenaError(f"submission {submission.id} has no archive")
        package = workspace / "package"
        manifest = unpack(archive, package)
        seeds, seed_key = verified_seeds(store, submission.suite)
        players = _players(package, manifest, archive)
        budget = submission_budget(suite_protocol(submission.suite, seeds), config.limits,
                                   board_of_suite(submission.suite), len(players))
        deadline = time.monotonic() + budget
        stored: list[int] = []
        try:
            for player in players:
                stored.append(_evaluate_player(store, submission, config, package, manifest, player, seeds, seed_key,
                                               deadline, log_path, sandboxes))
        except GymarenaError as exc:
            if players[0].algorithm is not None:
                for run_id in stored:  # its runs stand or fall together
                    store.set_hidden(run_id, f"another checkpoint of submission {submission.id} failed")
                raise GymarenaError(f"checkpoint {player.checkpoint}: {exc}") from None
            raise
        store.submissions.finish(submission.id, "finished", log_tail=tail(log_path))
    except GymarenaError as exc:
        store.submissions.finish(submission.id, "failed", reason=str(exc), log_tail=tail(log_path))
    except Exception as exc:  # a fault of ours: say so, and go on with the next one
        log.exception("submission %s failed in the worker", submission.id)
        store.submissions.finish(submission.id, "failed", reason=f"worker error: {type(exc).__name__}: {exc}",
                                 log_tail=tail(log_path))
    finally:
        for agent in sandboxes:  # whatever happened, no sandbox outlives its submission
            agent.close()
        shutil.rmtree(workspace, ignore_errors=True)


@dataclass(frozen=True)
class Player:
    """What one run of a submission plays: the package's agent, or one of its checkpoints
    (then as a training run of the package's algorithm)."""

    content_hash: str
    checkpoint: str | None = None
    algorithm: AlgorithmIdentity | None = None


def _players(package: Path, manifest: Manifest, archive: bytes) -> list[Player]:
    """One player per checkpoint (an algorithm), or the package's agent; distinct weights only."""
    if not manifest.checkpoints:
        return [Player(hashlib.sha256(archive).hexdigest())]
    code, weights = package_digests(package, manifest)
    seen: dict[str, str] = {}
    for path in manifest.checkpoints:
        if weights[path] in seen:  # the same weights twice would count one training run twice
            raise GymarenaError(f"the checkpoints {seen[weights[path]]!r} and {path!r} are the same file; "
                                "each must be an independently trained checkpoint")
        seen[weights[path]] = path
    algorithm = AlgorithmIdentity(manifest.name, manifest.version, code)
    return [Player(hashlib.sha256(f"{code}:{weights[path]}".encode()).hexdigest(), path, algorithm)
            for path in manifest.checkpoints]


def _evaluate_player(store: ResultsStore, submission: SubmissionInfo, config: WorkerConfig, package: Path,
                     manifest: Manifest, player: Player, seeds: tuple[int, ...], seed_key: bytes, deadline: float,
                     log_path: Path, sandboxes: list[SandboxedAgent]) -> int:
    """One verified run of a player on the submission's suite; its id."""
    from gymarena.suites import registered_suite

    def sandboxed(task, observation_space, action_space) -> SandboxedAgent:
        for done in sandboxes:  # one agent at a time: the runner is done with the last task's
            done.close()
        agent = SandboxedAgent(package, manifest.entry_point, task, observation_space, action_space, config.limits,
                               log_path, config.sandboxed, seed_key=seed_key, deadline=deadline,
                               checkpoint=player.checkpoint)
        sandboxes.append(agent)
        return agent

    reference = f"submission:{submission.id}:{manifest.entry_point}"
    source = AgentSource(
        reference=reference if player.checkpoint is None else f"{reference}:{player.checkpoint}",
        name=manifest.name,
        version=manifest.version,
        content_hash=player.content_hash,
        factory=sandboxed,
        owner=submission.owner,
    )
    suite = registered_suite(submission.suite)
    return int(board(suite.board).call("plays", store, suite, source, seeds, submission.id, player.algorithm, log.info))


# -- what plays each board's verified runs (gymarena/leaderboard/boards.py names them) ------------

def play_scores(store: ResultsStore, suite: Any, source: AgentSource, seeds: tuple[int, ...], submission_id: int,
                algorithm: AlgorithmIdentity | None, say: Callable[[str], None]) -> int:
    """A scores board: the suite's episodes on the hidden seeds, through the runner."""
    from gymarena.runner import EvalRequest, RunOrigin, evaluate

    request = EvalRequest(suite=suite.label, seeds=seeds, backend="local", fresh=True)
    return evaluate(request, store, origin=RunOrigin(source, "verified", submission_id, algorithm=algorithm)).run.id


def play_cav(store: ResultsStore, suite: Any, source: AgentSource, seeds: tuple[int, ...], submission_id: int,
             algorithm: AlgorithmIdentity | None, say: Callable[[str], None]) -> int:
    """A safety board: the AV drives a testing run on the hidden seed."""
    from gymarena.cavtest.av import agent_av
    from gymarena.cavtest.runs import TestingOrigin
    from gymarena.cavtest.suite import evaluate_cav_suite

    tested = TestingOrigin(agent_av(source), "verified", submission_id=submission_id)
    run_id, _ = evaluate_cav_suite(store, suite, tested, seeds, fresh=True, say=say)
    return run_id


def play_social(store: ResultsStore, suite: Any, source: AgentSource, seeds: tuple[int, ...], submission_id: int,
                algorithm: AlgorithmIdentity | None, say: Callable[[str], None]) -> int:
    """A social board: games against its pool, on the hidden seeds."""
    from gymarena.tournament.play import evaluate_social_suite

    return evaluate_social_suite(store, suite, source, seeds, kind="verified", submission_id=submission_id,
                                 fresh=True, algorithm=algorithm, say=say)


def run_worker(db_url: str, once: bool = False, unsafe_no_sandbox: bool = False, config: WorkerConfig | None = None) -> int:
    """Take and evaluate submissions until stopped (or, with ``once``, until the queue is
    empty); returns how many were evaluated."""
    sandboxed = require_sandbox(unsafe_no_sandbox)
    config = config or WorkerConfig()
    config = dataclasses.replace(config, sandboxed=sandboxed)
    if not sandboxed:
        log.warning("submitted agents run WITHOUT a sandbox (--unsafe-no-sandbox): only for code you trust")
    done = 0
    with ResultsStore(db_url) as store:
        while True:
            submission = store.submissions.claim(config.name)
            if submission is None:
                if once:
                    return done
                time.sleep(config.poll_seconds)
                continue
            log.info("evaluating submission %s (%s), attempt %s", submission.id, submission.suite, submission.attempts)
            with Heartbeat(functools.partial(store.submissions.beat, submission.id, config.name)):
                evaluate_submission(store, submission, config)
            ended = store.submissions.get(submission.id)
            if ended is not None:
                log.info("submission %s %s%s", submission.id, ended.status, f": {ended.reason}" if ended.reason else "")
            done += 1
