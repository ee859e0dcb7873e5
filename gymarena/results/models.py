"""The results schema (SQLAlchemy 2). Every change here comes with an Alembic migration
in ``migrations/versions``; a test compares the two."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class AgentRow(Base):
    """An agent identity: the same reference with other code, or of another owner, is another row."""

    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("reference", "content_hash", "owner", name="uq_agents_reference_hash_owner"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(1000))
    version: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    # The leaderboard token (by name) whose submissions made this agent; "" for runs this
    # database's own user recorded or imported. Only its owner adds runs to it.
    owner: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProtocolRow(Base):
    """One task under one protocol: spec, seed set, budget and simulator versions."""

    __tablename__ = "protocols"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(200), index=True)
    family: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    seeds: Mapped[list[int]] = mapped_column(JSON)
    episodes_per_seed: Mapped[int] = mapped_column(Integer)
    simulator_versions: Mapped[dict[str, str]] = mapped_column(JSON)
    metric_definitions: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RunRow(Base):
    """One evaluation of one agent on a set of tasks."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    suite: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    protocol_hash: Mapped[str] = mapped_column(String(64), index=True)
    config_hash: Mapped[str] = mapped_column(String(64), index=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # local: evaluated by the user into this database; self-reported: uploaded results;
    # verified: evaluated by a leaderboard worker on hidden seeds; imported: a run document
    # stored with `import_run` (gymarena's published baselines among them).
    kind: Mapped[str] = mapped_column(String(20), server_default="local")
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True, index=True)
    # Kept by the episode insert (rows actually inserted), so listing runs counts nothing.
    episode_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What a kind of run computes about itself at its end (CAV testing: the crash-rate estimate).
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Set by `gymarena admin hide-run`: the run stays stored but is out of every listing and ranking.
    hidden_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The algorithm this run's agent is one training run of (AlgorithmIdentity.portable()):
    # a leaderboard ranks an owner's runs of one algorithm as one entry over its runs.
    algorithm: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # The process recording a running run (results/heartbeat.py), whose beats touch updated_at.
    holder: Mapped[str | None] = mapped_column(String(300), nullable=True)


class TokenRow(Base):
    """A leaderboard API token: only its sha256 is stored; the token is shown once."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    daily_quota: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SubmissionRow(Base):
    """Uploaded results or an uploaded agent, and what became of it."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # results | agent
    suite: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)  # queued | running | finished | failed
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    log_tail: Mapped[str | None] = mapped_column(Text, nullable=True)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    archive: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    archive_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the lease of a running agent submission: its worker beats; a silent one's is taken again
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refunded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # not counted in the quota


class HiddenSeedsRow(Base):
    """The seeds a suite version is verified on, kept from submitters: public as
    sha256(seeds + salt) until rotated, then revealed."""

    __tablename__ = "hidden_seeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suite: Mapped[str] = mapped_column(String(200), index=True)
    seeds: Mapped[list[int]] = mapped_column(JSON)
    salt: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RankingSnapshotRow(Base):
    """A suite's leaderboard page as last computed (rankings, seed commitments, plot),
    with the inputs it was computed from (``version``). A refresher writes it; serving
    processes only read it, so page views never wait for a bootstrap."""

    __tablename__ = "ranking_snapshots"

    suite: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[str] = mapped_column(Text)
    serial: Mapped[int] = mapped_column(Integer)  # +1 per write: what serving caches key on
    # Both as served: the API's JSON text and the page's rendered body, so a serving
    # process neither parses nor renders hundreds of entries when a ranking changes.
    payload: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RunTaskRow(Base):
    """The tasks of a run, in order, each with its protocol."""

    __tablename__ = "run_tasks"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    protocol_hash: Mapped[str] = mapped_column(ForeignKey("protocols.hash"), index=True)


class SeedMeanRow(Base):
    """A complete run's episodes of one task and seed (at one decision interval), counted
    and averaged when the run completes: scores (scoring.py) read these few rows instead
    of aggregating the run's episodes again. The means are over the scored episodes (no
    crash, not adaptation); NULL when a seed has none."""

    __tablename__ = "seed_means"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    seed: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    decision_interval: Mapped[int] = mapped_column(Integer, primary_key=True)
    recorded: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    episodes: Mapped[int] = mapped_column(Integer)
    mean_return: Mapped[float | None] = mapped_column(Float, nullable=True)
    mean_square_return: Mapped[float | None] = mapped_column(Float, nullable=True)
    success_rate: Mapped[float | None] = mapped_column(Float, nullable=True)


class EpisodeRow(Base):
    """One finished episode. (run, task, seed, decision interval, episode) is unique:
    resume never duplicates."""

    __tablename__ = "episodes"
    __table_args__ = (
        UniqueConstraint(
            "run_id", "task_id", "seed", "decision_interval", "episode", name="uq_episodes_run_task_seed_interval_episode"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))  # indexed by the unique key
    task_id: Mapped[str] = mapped_column(String(200))
    seed: Mapped[int] = mapped_column(BigInteger)
    episode: Mapped[int] = mapped_column(Integer)
    episode_seed: Mapped[int] = mapped_column(BigInteger)
    episode_return: Mapped[float] = mapped_column(Float)
    length: Mapped[int] = mapped_column(Integer)
    success: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    terminated: Mapped[bool] = mapped_column(Boolean)
    truncated: Mapped[bool] = mapped_column(Boolean)
    env_steps: Mapped[int] = mapped_column(Integer)
    wall_seconds: Mapped[float] = mapped_column(Float)
    agent_returns: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decision_interval: Mapped[int] = mapped_column(Integer, server_default="1")
    trial: Mapped[int | None] = mapped_column(Integer, nullable=True)
    phase: Mapped[str | None] = mapped_column(String(16), nullable=True)
