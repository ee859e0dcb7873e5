"""Who is recording a run right now, and whether they still are.

A running run names its holder (host, process id and the process's start time) and its
recorder touches ``updated_at`` every few seconds (the heartbeat). A run whose holder is
gone (on this host: no such process; elsewhere: no heartbeat for a minute) is shown as
``interrupted`` and can be resumed at once; one whose holder is alive is not shared: a
second identical eval says so instead of playing the same episodes beside it.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

HEARTBEAT_SECONDS = 10.0
STALE_AFTER = timedelta(seconds=60)  # a holder on another host is presumed gone after this silence


def _started(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (None if there is none)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def this_process() -> str:
    """This process as a run's holder: ``host:pid:start``."""
    return f"{socket.gethostname()}:{os.getpid()}:{_started(os.getpid()) or '?'}"


def holder_alive(holder: str | None, heartbeat: datetime) -> bool:
    """Whether the process that holds a running run still runs."""
    if not holder:
        return False
    host, _, rest = holder.partition(":")
    pid_text, _, start = rest.partition(":")
    if host == socket.gethostname() and pid_text.isdigit():
        now_started = _started(int(pid_text))
        if now_started is not None or Path("/proc/self/stat").exists():
            return now_started is not None and (start in ("?", now_started))
    moment = heartbeat if heartbeat.tzinfo is not None else heartbeat.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) - moment < STALE_AFTER


class Heartbeat:
    """Calls ``beat()`` every ``seconds`` in a daemon thread until stopped."""

    def __init__(self, beat, seconds: float = HEARTBEAT_SECONDS):
        self._beat, self._seconds = beat, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="run-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                self._beat()
            except Exception:  # a missed beat is harmless; the next one tries again
                continue
