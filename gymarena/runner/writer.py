"""Commit episode records on a background thread as they finish.

Each record is handed to the sink as soon as the thread is free; records that queue up
while a commit is running go together in the next one. A slow task thus commits every
episode on its own, and a fast one (CartPole) pays one transaction per batch instead
of per episode. A killed process loses at most the records not yet committed, which a
resume plays again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from gymarena.records import EpisodeRecord

_STOP = object()


class RecordWriter:
    def __init__(self, sink: Callable[[list[EpisodeRecord]], None]):
        self._sink = sink
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="gymarena-record-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if batch[-1] is _STOP:
                batch.pop()
                stopping = True
            if batch and self._error is None:
                try:
                    self._sink(batch)
                except BaseException as exc:  # surfaced to the producer by put/close
                    self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, record: EpisodeRecord) -> None:
        self._raise_if_failed()
        self._queue.put(record)

    def close(self) -> None:
        """Commit everything queued, stop the thread, and raise a commit failure if any."""
        self._queue.put(_STOP)
        self._thread.join()
        self._raise_if_failed()
