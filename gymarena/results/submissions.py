"""Leaderboard tokens and submissions: the SQL behind the server's write API and its queue.

Tokens are random strings shown once; only their sha256 is stored, so a leaked database
does not leak tokens. A submission is uploaded results (stored at once as a
self-reported run) or an uploaded agent (queued until a worker claims it). Every upload
a token makes, accepted or refused, first *reserves* its submission row, counted against
the token's daily quota in the same transaction (the token's row locked on PostgreSQL,
the write lock on SQLite): concurrent uploads can never pass the quota, and refused
uploads are rate limited like accepted ones. Claiming is atomic too: on PostgreSQL
``SELECT ... FOR UPDATE SKIP LOCKED``, on SQLite a write-locked transaction (BEGIN
IMMEDIATE), so two workers never take the same submission. Reasons and log tails are
stored capped (errors.capped): they come from untrusted code.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, true, update
from sqlalchemy.orm import Session

from gymarena.errors import GymarenaError, capped
from gymarena.results.heartbeat import holder_alive
from gymarena.results.models import HiddenSeedsRow, RunRow, SubmissionRow, TokenRow, utcnow

if TYPE_CHECKING:
    from gymarena.results.store import ResultsStore

TOKEN_PREFIX = "gya_"
SUBMISSION_STATUSES = ("received", "queued", "running", "finished", "failed")
DEFAULT_DAILY_QUOTA = 20
# An upload still ``received`` (or results still being stored) after this was abandoned:
# its server was killed mid-upload, or its client stalled. It is failed and refunded.
UPLOAD_SECONDS = 15 * 60
# How many times an agent submission is claimed before a worker that dies while playing it
# (OOM, reboot, deploy) fails it for good: the agent may be what kills its workers.
MAX_ATTEMPTS = 3
HIDDEN_SEED_SPACE = range(2**32, 2**62)  # beyond any public seed (at most 2**32 - 1); stored as 64-bit integers


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    daily_quota: int
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class SubmissionInfo:
    id: int
    token_id: int
    kind: str
    suite: str
    status: str
    reason: str | None
    log_tail: str | None
    manifest: dict[str, Any]
    archive_sha256: str | None
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    run_id: int | None = None
    owner: str = ""  # the submitting token's name: the agent's owner
    attempts: int = 0  # how many times a worker has claimed it


def seed_commitment(seeds: list[int], salt: str) -> str:
    """sha256 over the seeds (comma-separated, in order) and the salt: published before
    the seeds are, so anyone can check later that they were not changed."""
    return hashlib.sha256((",".join(map(str, seeds)) + ":" + salt).encode()).hexdigest()


@dataclass(frozen=True)
class SeedCommitment:
    suite: str
    commitment: str
    created_at: datetime
    revealed_at: datetime | None
    seeds: list[int] | None  # only once revealed
    salt: str | None


class Submissions:
    def __init__(self, store: ResultsStore):
        self.store = store

    # -- tokens -------------------------------------------------------------------------

    def create_token(self, name: str, daily_quota: int = DEFAULT_DAILY_QUOTA) -> str:
        """A new token for ``name``; the returned string is the only copy of it."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)

        def work(session: Session) -> None:
            if session.scalar(select(TokenRow.id).where(TokenRow.name == name)) is not None:
                raise GymarenaError(f"there is already a token named {name!r}; revoke it first or pick another name")
            session.add(TokenRow(name=name, token_hash=hash_token(token), daily_quota=daily_quota))

        self.store._write("write to", work)
        return token

    def revoke_token(self, name: str) -> None:
        def work(session: Session) -> None:
            row = session.scalar(select(TokenRow).where(TokenRow.name == name))
            if row is None:
                raise GymarenaError(f"there is no token named {name!r}")
            row.revoked_at = utcnow()

        self.store._write("write to", work)

    def token(self, token: str) -> TokenInfo | None:
        """The live token with this value (None if unknown or revoked)."""
        row = self.store._read(lambda s: s.scalar(select(TokenRow).where(TokenRow.token_hash == hash_token(token))))
        if row is None or row.revoked_at is not None:
            return None
        return TokenInfo(row.id, row.name, row.daily_quota, row.created_at, row.revoked_at)

    def submitted_since(self, token_id: int, hours: float = 24) -> int:
        return self.store._read(lambda s: self._count_since(s, token_id, hours))

    @staticmethod
    def _count_since(session: Session, token_id: int, hours: float = 24) -> int:
        since = utcnow() - timedelta(hours=hours)
        return session.scalar(select(func.count()).select_from(SubmissionRow)
                              .where(SubmissionRow.token_id == token_id, SubmissionRow.created_at >= since,
                                     SubmissionRow.refunded.is_(False))) or 0

    # -- hidden seeds -------------------------------------------------------------------

    def hidden_seeds(self, suite: str, count: int) -> list[int]:
        """The current hidden seeds of a suite version, drawn (``count`` of them) on first use."""
        return self.hidden_seed_set(suite, count)[0]

    def hidden_seed_set(self, suite: str, count: int) -> tuple[list[int], str]:
        """The current hidden seeds of a suite version and their (secret) salt, drawn on
        first use: the worker evaluates on the seeds and keys the agents' seeds with the salt."""

        def work(session: Session) -> tuple[list[int], str]:
            row = self._current_seeds(session, suite)
            if row is None:
                row = self._draw_seeds(session, suite, count)
            return list(row.seeds), row.salt

        return self.store._write("write to", work)

    def unrevealed_seeds(self) -> set[int]:
        """Every hidden seed, of any suite, not revealed yet: what no page may show."""
        rows = self.store._read(lambda s: s.execute(
            select(HiddenSeedsRow.seeds).where(HiddenSeedsRow.revealed_at.is_(None))).scalars().all())
        return {int(seed) for seeds in rows for seed in seeds}

    def current_hidden_seeds(self, suite: str) -> list[int] | None:
        """The hidden seeds in use for a suite version, if any were drawn (never draws)."""
        row = self.store._read(lambda s: self._current_seeds(s, suite))
        return None if row is None else list(row.seeds)

    def rotate_seeds(self, suite: str, count: int) -> SeedCommitment:
        """Reveal the current hidden seeds of a suite version and draw new ones."""

        def work(session: Session) -> SeedCommitment:
            current = self._current_seeds(session, suite)
            if current is not None:
                current.revealed_at = utcnow()
            return self._commitment(self._draw_seeds(session, suite, count))

        return self.store._write("write to", work)

    def seed_commitments(self, suite: str) -> list[SeedCommitment]:
        """Every hidden-seed set of a suite version, newest first: seeds shown once revealed."""
        rows = self.store._read(lambda s: s.scalars(
            select(HiddenSeedsRow).where(HiddenSeedsRow.suite == suite).order_by(HiddenSeedsRow.id.desc())).all())
        return [self._commitment(row) for row in rows]

    @staticmethod
    def _current_seeds(session: Session, suite: str) -> HiddenSeedsRow | None:
        return session.scalar(
            select(HiddenSeedsRow).where(HiddenSeedsRow.suite == suite, HiddenSeedsRow.revealed_at.is_(None))
            .order_by(HiddenSeedsRow.id.desc()).limit(1)
        )

    @staticmethod
    def _draw_seeds(session: Session, suite: str, count: int) -> HiddenSeedsRow:
        rng = secrets.SystemRandom()
        # from a space too large to search: an episode seed an agent found from its observations
        # cannot be walked back to the suite seed behind it (and on to every other episode)
        seeds = sorted(rng.sample(HIDDEN_SEED_SPACE, count))
        salt = secrets.token_hex(16)
        row = HiddenSeedsRow(suite=suite, seeds=seeds, salt=salt, commitment=seed_commitment(seeds, salt))
        session.add(row)
        session.flush()
        return row

    @staticmethod
    def _commitment(row: HiddenSeedsRow) -> SeedCommitment:
        from gymarena.results.store import _utc

        revealed = row.revealed_at is not None
        return SeedCommitment(row.suite, row.commitment, _utc(row.created_at), _utc(row.revealed_at),
                              list(row.seeds) if revealed else None, row.salt if revealed else None)

    # -- submissions --------------------------------------------------------------------

    def reserve(self, token: TokenInfo, kind: str) -> int | None:
        """A new submission row (status ``received``) for ``token``, or None when the token
        has used its daily quota: the count and the insert are one transaction, serialised
        per token, so concurrent uploads cannot both take the last place."""

        def work(session: Session) -> int | None:
            if self.store.engine.dialect.name == "postgresql":  # SQLite: the write lock serialises already
                session.execute(select(TokenRow.id).where(TokenRow.id == token.id).with_for_update())
            self._settle_abandoned(session, SubmissionRow.token_id == token.id)
            if self._count_since(session, token.id) >= token.daily_quota:
                return None
            row = SubmissionRow(token_id=token.id, kind=kind, suite="", manifest={}, status="received")
            session.add(row)
            session.flush()
            return row.id

        return self.store._write("write to", work)

    def settle(
        self, submission_id: int, suite: str, manifest: dict[str, Any], status: str,
        archive: bytes | None = None, reason: str | None = None,
    ) -> None:
        """Say what a reserved submission is: its suite and manifest, and queued (an agent),
        running (results being stored) or failed (refused, with the reason)."""
        values: dict[str, Any] = {"suite": suite, "manifest": manifest, "status": status, "reason": capped(reason)}
        if archive is not None:
            values.update(archive=archive, archive_sha256=hashlib.sha256(archive).hexdigest())
        if status in ("finished", "failed"):
            values["finished_at"] = utcnow()
        self.store._write("write to", lambda s: s.execute(
            update(SubmissionRow).where(SubmissionRow.id == submission_id).values(**values)))

    def get(self, submission_id: int) -> SubmissionInfo | None:
        from gymarena.results.store import known_id

        if not known_id(submission_id):
            return None

        def work(session: Session) -> SubmissionInfo | None:
            row = session.get(SubmissionRow, submission_id)
            return None if row is None else self._info(session, row)

        return self.store._read(work)

    def archive(self, submission_id: int) -> bytes | None:
        from gymarena.results.store import known_id

        if not known_id(submission_id):
            return None
        return self.store._read(lambda s: s.scalar(select(SubmissionRow.archive).where(SubmissionRow.id == submission_id)))

    def claim(self, worker: str) -> SubmissionInfo | None:
        """Take the oldest queued agent submission for ``worker`` (status running, its lease
        started), or None. First, in the same transaction, every running submission whose
        worker stopped beating is queued again (the runs its dead worker recorded are
        deleted: it is played whole, once) or, after MAX_ATTEMPTS claims, failed with the
        reason; and abandoned uploads are failed and refunded."""
        from gymarena.results.sqlite import WRITE_LOCK

        def work(session: Session) -> SubmissionInfo | None:
            self._settle_abandoned(session, true())
            self._take_back_stale(session)
            query = (
                select(SubmissionRow)
                .where(SubmissionRow.status == "queued", SubmissionRow.kind == "agent")
                .order_by(SubmissionRow.id)
                .limit(1)
            )
            if self.store.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = session.scalar(query)
            if row is None:
                return None
            now = utcnow()
            row.status, row.worker, row.started_at, row.heartbeat_at = "running", worker, now, now
            row.attempts = (row.attempts or 0) + 1
            session.flush()
            return self._info(session, row)

        engine = self.store.engine.execution_options(**{WRITE_LOCK: True})
        with Session(engine, expire_on_commit=False) as session, session.begin():
            return work(session)

    def beat(self, submission_id: int, worker: str) -> None:
        """Renew ``worker``'s lease of a submission it is playing (its heartbeat)."""
        self.store._write("write to", lambda s: s.execute(
            update(SubmissionRow)
            .where(SubmissionRow.id == submission_id, SubmissionRow.worker == worker, SubmissionRow.status == "running")
            .values(heartbeat_at=utcnow())))

    @staticmethod
    def _take_back_stale(session: Session) -> None:
        from gymarena.results.recorder import _delete_run
        from gymarena.results.store import _utc

        running = session.scalars(select(SubmissionRow).where(SubmissionRow.status == "running",
                                                              SubmissionRow.kind == "agent")).all()
        for row in running:
            beat = _utc(row.heartbeat_at or row.started_at or row.created_at)
            if holder_alive(row.worker, beat):
                continue
            for run_id in session.scalars(select(RunRow.id).where(RunRow.submission_id == row.id)).all():
                _delete_run(session, run_id)
            if (row.attempts or 0) >= MAX_ATTEMPTS:
                row.status, row.finished_at = "failed", utcnow()
                row.reason = (f"its worker stopped while playing it {row.attempts} times (the last: {row.worker}); "
                              "it is not taken again")
            else:
                row.status, row.worker, row.heartbeat_at = "queued", None, None

    @staticmethod
    def _settle_abandoned(session: Session, which: Any) -> None:
        """Fail and refund the uploads that never arrived (``received``, or results never
        stored) after UPLOAD_SECONDS: a server killed mid-upload charged no one's quota."""
        cutoff = utcnow() - timedelta(seconds=UPLOAD_SECONDS)
        abandoned = session.scalars(select(SubmissionRow).where(
            which, SubmissionRow.created_at < cutoff,
            (SubmissionRow.status == "received") | ((SubmissionRow.status == "running") & (SubmissionRow.kind == "results"))
        )).all()
        for row in abandoned:
            stored = session.scalar(select(RunRow.id).where(RunRow.submission_id == row.id).limit(1))
            if stored is not None:  # stored whole (atomically) before its server died: it is done
                row.status, row.finished_at = "finished", utcnow()
                continue
            row.status, row.finished_at, row.refunded = "failed", utcnow(), True
            row.reason = f"the upload did not arrive within {UPLOAD_SECONDS // 60} minutes; it is not counted in the quota"

    def finish(self, submission_id: int, status: str, reason: str | None = None, log_tail: str | None = None) -> None:
        if status not in ("finished", "failed"):
            raise ValueError(f"a submission finishes as finished or failed, not {status!r}")
        self.store._write("write to", lambda s: s.execute(
            update(SubmissionRow).where(SubmissionRow.id == submission_id)
            .values(status=status, reason=capped(reason), log_tail=capped(log_tail), finished_at=utcnow())
        ))

    @staticmethod
    def _info(session: Session, row: SubmissionRow) -> SubmissionInfo:
        from gymarena.results.models import RunRow
        from gymarena.results.store import _utc

        run_id = session.scalar(select(RunRow.id).where(RunRow.submission_id == row.id).order_by(RunRow.id.desc()).limit(1))
        owner = session.scalar(select(TokenRow.name).where(TokenRow.id == row.token_id)) or ""
        return SubmissionInfo(
            row.id, row.token_id, row.kind, row.suite, row.status, row.reason, row.log_tail, row.manifest,
            row.archive_sha256, row.worker, _utc(row.created_at), _utc(row.started_at), _utc(row.finished_at), run_id,
            owner, row.attempts or 0,
        )
