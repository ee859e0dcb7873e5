"""The answering side of a request/answer conversation over frames: a sandboxed agent's
host and a runtime's env server both read a request, act on it, and send back
``{"value": ...}`` or ``{"error": ..., "traceback": ...}``, until the other side closes
its pipe or the handler says stop."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from gymarena.wire.frames import FrameError, read_frame, write_frame


class Stop(Exception):
    """Raised by a handler to end the conversation (no answer is sent)."""


def answer_requests(inbound: int, outbound: int, handle: Callable[[dict[str, Any]], Any],
                    unsendable: str = "the answer cannot be sent") -> None:
    """Answer every request read from ``inbound`` with what ``handle`` returns or raises."""
    while True:
        try:
            request = read_frame(inbound)
        except FrameError:  # the other side closed the pipe: done
            return
        try:
            answer = {"value": handle(request)}
        except Stop:
            return
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
        try:
            write_frame(outbound, answer)
        except FrameError as exc:  # a value frames cannot carry (an object, a str where an array goes, ...)
            write_frame(outbound, {"error": f"{unsendable}: {exc}"})
