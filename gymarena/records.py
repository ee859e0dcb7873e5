"""What a run records: who played (AgentIdentity), and the one row every episode produces."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class AgentIdentity:
    """Who a run's episodes belong to: the agent's name, its reference (how it was loaded),
    version and the digest of its code, and its owner: the leaderboard token whose
    submissions made it ("" for the database's own runs). Stored once per distinct
    (reference, code, owner); only the owner adds runs to an agent of its own.

    The owner is the server's to assign (from the token), never part of a run document."""

    name: str
    reference: str
    version: str
    content_hash: str
    owner: str = ""

    def portable(self) -> dict[str, str]:
        """The identity as a run document carries it: without the owner."""
        return {"name": self.name, "reference": self.reference, "version": self.version, "content_hash": self.content_hash}


@dataclass(frozen=True)
class AlgorithmIdentity:
    """The algorithm a run's agent is one independently trained checkpoint of: its name,
    version and the digest of its code (training code and settings, not the weights).

    A leaderboard ranks the runs of one algorithm (and one owner) as one entry, each run
    being one training run, as rliable's unit of variability is (Agarwal et al. 2021)."""

    name: str
    version: str = ""
    code_hash: str = ""

    def portable(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "code_hash": self.code_hash}

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name


@dataclass(frozen=True, slots=True)
class EpisodeKey:
    """Which episode of a run: task, seed, index within that seed's quota, and the
    decision interval it is played at (1 but in decision-interval sweeps)."""

    task_id: str
    seed: int
    episode: int
    decision_interval: int = 1


@dataclass(slots=True)
class EpisodeRecord:
    """The outcome of one episode.

    ``agent_returns`` holds per-agent or per-role returns of multi-agent tasks;
    ``extra`` holds task-specific metrics (crash, importance weight, ...);
    ``decision_interval`` is how many primitive steps each decision of the agent lasted;
    on tasks played in trials (meta-RL), ``trial`` is the trial's index within its seed and
    ``phase`` says whether the episode was for ``"adaptation"`` or ``"evaluation"``
    (both None elsewhere). Only evaluation episodes are scored.
    """

    task_id: str
    seed: int
    episode: int
    episode_seed: int
    episode_return: float
    length: int
    success: bool | None
    terminated: bool
    truncated: bool
    env_steps: int
    wall_seconds: float
    agent_returns: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    decision_interval: int = 1
    trial: int | None = None
    phase: str | None = None

    @property
    def scored(self) -> bool:
        """Whether the episode counts in scores: it has an outcome (its simulator did not
        crash) and it is not an adaptation episode of a meta-RL trial."""
        return self.error is None and self.phase != "adaptation"

    def to_dict(self) -> dict[str, Any]:
        """A shallow dict of the fields (cheap: called once per stored episode)."""
        return {name: getattr(self, name) for name in _FIELD_NAMES}

    def outcome_fields(self) -> dict[str, Any]:
        """The fields a deterministic rerun must reproduce (timing excluded)."""
        data = self.to_dict()
        data.pop("wall_seconds")
        return data


_FIELD_NAMES = tuple(f.name for f in fields(EpisodeRecord))


@dataclass(frozen=True)
class SeedMean:
    """One run's episodes of one task and seed at one decision interval, averaged in SQL:
    what scores are computed from without reading every episode (gymarena/scoring.py).

    ``recorded`` counts every stored record, ``failed`` those whose simulator crashed,
    ``episodes`` the scored ones (no crash, not adaptation), which the means average.
    """

    run_id: int
    task_id: str
    seed: int
    decision_interval: int
    recorded: int
    failed: int
    episodes: int
    mean_return: float
    mean_square_return: float
    success_rate: float | None

