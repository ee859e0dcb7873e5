"""Self-reported results: what a client uploads, what the server checks, how it is stored.

``gymarena submit results RUN_ID`` sends a complete local run of a suite: the agent's
identity, the run's config and provenance, its task protocols and every episode record.
The server accepts it only if

- the suite is one the server has registered (``name@N``, never a path) and every task's
  protocol hash equals the one the server computes for the suite (same spec, seeds,
  budget, metrics, simulator versions);
- it is complete: every (task, seed, decision interval, episode) of the protocol exactly
  once, nothing else, and no episode ended in an error (a run with crashed episodes is
  not a result to rank: play them again, ``gymarena eval --resume``);
- it is plausible: finite numbers everywhere, returns the task can produce (its
  catalog's per-step reward range times the episode's length), lengths within the task's
  step limit, env steps equal to lengths, episode seeds as the runner derives them,
  success as the task's rule says where the rule looks only at return, length or
  termination, per-agent returns that add up to the episode return.

Accepted results are stored as a run of kind ``self-reported``, owned by the token that
sent them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gymarena.errors import unstorable
from gymarena.protocol import ProtocolError, RunProtocol, TaskProtocol
from gymarena.records import AgentIdentity, AlgorithmIdentity, EpisodeKey, EpisodeRecord
from gymarena.results import ResultsStore, RunStart

MAX_EPISODES = 2_000_000
_MAX_INT = 2**62  # integers a SQL column holds (and any real episode key is far below)
_RULE_ON_OUTCOME = re.compile(r"^(terminated|return|length)\b")  # rules an upload's own fields decide


class AgentUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    reference: str = Field(min_length=1, max_length=1000)
    version: str = Field(max_length=200)
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class TaskUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task_id: str = Field(max_length=200)
    protocol_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    spec: dict[str, Any]
    seeds: list[int] = Field(max_length=10_000)
    episodes_per_seed: int = Field(ge=1, le=_MAX_INT)
    simulator_versions: dict[str, str]
    metric_definitions: dict[str, Any]


class EpisodeUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task_id: str = Field(max_length=200)
    seed: int = Field(ge=0, le=_MAX_INT)
    episode: int = Field(ge=0, le=_MAX_INT)
    episode_seed: int = Field(ge=0, le=_MAX_INT)
    episode_return: float
    length: int = Field(ge=0, le=_MAX_INT)
    success: bool | None
    terminated: bool
    truncated: bool
    env_steps: int = Field(ge=0, le=_MAX_INT)
    wall_seconds: float = Field(ge=0)
    agent_returns: dict[str, float] | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    error: str | None = Field(default=None, max_length=10_000)
    decision_interval: int = Field(default=1, ge=1, le=_MAX_INT)
    trial: int | None = Field(default=None, ge=0, le=_MAX_INT)
    phase: str | None = Field(default=None, pattern=r"^(adaptation|evaluation)$")


class AlgorithmUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, pattern=r"^[\w.+-][\w .+-]*$")
    version: str = Field(default="", max_length=200)
    code_hash: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")


class ResultsUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    suite: str = Field(min_length=1, max_length=200)
    agent: AgentUpload
    algorithm: AlgorithmUpload | None = None  # the agent is one training run of it: ranked with its owner's others
    config: dict[str, Any]
    provenance: dict[str, Any]
    tasks: list[TaskUpload] = Field(min_length=1, max_length=1000)
    episodes: list[EpisodeUpload] = Field(max_length=MAX_EPISODES)

    @model_validator(mode="after")
    def _storable(self) -> ResultsUpload:
        """Every text field holds what each supported database stores (checked before anything
        is accepted: a NUL stored in a JSON field would fail every later write of the page)."""
        if problem := unstorable(self.model_dump()):
            raise ValueError(problem)
        return self


def registered_label(given: str) -> str:
    """The label (``name@N``) of a suite this server has registered, as a client must give
    it; UnknownSuiteError otherwise (a client's text is never read as a path)."""
    from gymarena.errors import UnknownSuiteError
    from gymarena.suites import registered_suite

    try:
        suite = registered_suite(given)
    except UnknownSuiteError:
        raise UnknownSuiteError(f"this server has no suite {given[:200]!r}; give one of its suites as name@version "
                                "(GET /api/suites lists them)") from None
    if suite.label != given:
        raise UnknownSuiteError(f"give the suite with its version ({suite.label}), not {given!r}")
    return given


def validation_summary(exc: ValidationError, whole: str = "body") -> str:
    """The first few problems pydantic found, each as 'where: what' (``whole`` when the
    problem is with the document itself)."""
    errors = exc.errors()
    parts = [f"{'.'.join(map(str, e['loc'])) or whole}: {e['msg']}" for e in errors[:5]]
    return "; ".join(parts) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else "")


def results_payload(store: ResultsStore, run_id: int, algorithm: AlgorithmIdentity | None = None) -> dict[str, Any]:
    """What ``gymarena submit results`` sends for a stored run: the exported run, naming
    ``algorithm`` (else the one the run names, if any) as what it is one training run of."""
    from gymarena.errors import GymarenaError
    from gymarena.results.exchange import run_document, stored_run

    run = stored_run(store, run_id)
    if run.suite is None:
        raise GymarenaError(f"run {run_id} evaluated single tasks, not a suite; leaderboards rank suites (gymarena eval --suite)")
    if run.status != "complete":
        raise GymarenaError(f"run {run_id} is {run.status}; finish it first (gymarena eval --resume {run_id})")
    document = run_document(store, run)
    if algorithm is not None:
        document["algorithm"] = algorithm.portable()
    return document


def check_results(upload: ResultsUpload, protocol: RunProtocol) -> list[str]:
    """Why the upload cannot be ranked under the server's protocol (empty if it can)."""
    tasks, forged = [], []
    for task in upload.tasks:
        try:
            tasks.append(TaskProtocol.from_json(task.model_dump()))
        except ProtocolError:
            forged.append(task.task_id)
    if forged:
        return [(f"the protocol hash of {', '.join(forged)} does not match its spec, seeds, budget, "
                 "metric definitions and simulator versions")]
    uploaded = RunProtocol(tuple(tasks))
    if uploaded.hash != protocol.hash:
        return [f"the protocol differs from this server's {upload.suite}: " + "; ".join(protocol.differences(uploaded))]
    return _completeness(upload, protocol) or _plausibility(upload, protocol)


def _completeness(upload: ResultsUpload, protocol: RunProtocol) -> list[str]:
    expected = set(protocol.episode_keys())
    given = [EpisodeKey(e.task_id, e.seed, e.episode, e.decision_interval) for e in upload.episodes]
    problems = []
    if len(set(given)) != len(given):
        problems.append(f"{len(given) - len(set(given))} episodes are given more than once")
    if missing := expected - set(given):
        problems.append(f"{len(missing)} of the protocol's {len(expected)} episodes are missing, "
                        f"e.g. {_key(min(missing, key=_order))}")
    if unknown := set(given) - expected:
        problems.append(f"{len(unknown)} episodes are not in the protocol, e.g. {_key(min(unknown, key=_order))}")
    return problems


def _order(key: EpisodeKey) -> tuple:
    return key.task_id, key.seed, key.decision_interval, key.episode


def _key(key: EpisodeKey) -> str:
    return f"{key.task_id} seed {key.seed} episode {key.episode}" + (
        f" at decision interval {key.decision_interval}" if key.decision_interval != 1 else "")


def _finite(value: Any) -> bool:
    """Whether every number in a JSON value is finite (NaN and infinities are not results)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


def _plausibility(upload: ResultsUpload, protocol: RunProtocol) -> list[str]:
    from gymarena.success import EpisodeOutcome, episode_succeeded
    from gymarena.tasks import reward_range

    errored = [e for e in upload.episodes if e.error is not None]
    if errored:
        first = errored[0]
        return [f"{len(errored)} episodes ended in an error (e.g. {first.task_id} seed {first.seed} episode "
                f"{first.episode}); a run to rank has none: play them again (gymarena eval --resume) or evaluate anew"]
    problems: list[str] = []
    for e in upload.episodes:
        task = protocol.task(e.task_id)
        spec = task.spec
        where = f"{e.task_id} seed {e.seed} episode {e.episode}"
        rewards = reward_range(e.task_id)
        if not math.isfinite(e.episode_return) or not math.isfinite(e.wall_seconds):
            problems.append(f"{where}: the return {e.episode_return} is not a finite number")
        elif rewards is not None and not rewards.allows(e.episode_return, e.length):
            problems.append(f"{where}: the return {e.episode_return:g} is outside what {e.length} steps of "
                            f"{e.task_id} can give ({rewards.low:g} to {rewards.high:g} per step: {rewards.source})")
        if not _finite(e.extra) or (e.agent_returns is not None and not _finite(e.agent_returns)):
            problems.append(f"{where}: its metrics or per-agent returns hold a number that is not finite")
        limit = spec.max_episode_steps
        if limit is not None and e.length > limit:
            problems.append(f"{where}: {e.length} steps, over the task's limit of {limit}")
        if e.env_steps != e.length:
            problems.append(f"{where}: {e.env_steps} env steps for an episode of {e.length} steps")
        if e.episode_seed != task.episode_seed(EpisodeKey(e.task_id, e.seed, e.episode, e.decision_interval)):
            problems.append(f"{where}: episode seed {e.episode_seed} is not the one the runner derives from seed {e.seed}")
        if e.agent_returns is not None and not math.isclose(sum(e.agent_returns.values()), e.episode_return,
                                                            rel_tol=1e-6, abs_tol=1e-6):
            problems.append(f"{where}: the agents' returns do not add up to the episode return")
        if e.error is None and _RULE_ON_OUTCOME.match(spec.success):
            outcome = EpisodeOutcome(e.episode_return, 0.0, e.length, e.terminated, e.truncated, {})
            if episode_succeeded(spec.success, outcome) != e.success:
                problems.append(f"{where}: success {e.success} contradicts the task's rule {spec.success!r}")
        if len(problems) >= 20:
            problems.append("(and maybe more; the first 20 are listed)")
            break
    return problems


def store_results(store: ResultsStore, upload: ResultsUpload, protocol: RunProtocol, submission_id: int, owner: str) -> int:
    """Store checked results (under the server's ``protocol``) as a complete self-reported
    run of ``owner``'s agent (the token's name), in one transaction; returns its id."""
    start = RunStart(AgentIdentity(**upload.agent.model_dump(), owner=owner), protocol,
                     {**upload.config, "submission": submission_id},
                     upload.provenance, kind="self-reported", suite=upload.suite,
                     settings={"submission": submission_id}, submission_id=submission_id,
                     algorithm=None if upload.algorithm is None else AlgorithmIdentity(**upload.algorithm.model_dump()))
    with store.recording(start, atomic=True) as run:
        run.add(EpisodeRecord(**e.model_dump()) for e in upload.episodes)
    return run.run_id
