"""Errors a user can act on.

Every error here carries a one-line message that says what was wrong and how to fix
it; the CLI prints that line and exits non-zero instead of showing a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_FIELD = "\x1f"  # marks a parameter's name in a message: param("workers")


def param(name: str) -> str:
    """A field of a library call named in an error message: the library's message says the
    field (``workers``), the CLI's says its option (``--workers``, :meth:`GymarenaError.for_cli`)."""
    return f"{_FIELD}{name}{_FIELD}"


def _named(message: str, name_of: Callable[[str], str]) -> str:
    parts = message.split(_FIELD)
    return "".join(name_of(part) if index % 2 else part for index, part in enumerate(parts))


class GymarenaError(Exception):
    """Base class of the errors gymarena reports to its user as one line. Its message names the
    fields of the call that was wrong by :func:`param`, so each face says them its own way."""

    def _message(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else Exception.__str__(self)

    def __str__(self) -> str:
        return _named(self._message(), str)

    def for_cli(self, option_of: Callable[[str], str]) -> str:
        """The message with each field named by its command-line option."""
        return _named(self._message(), option_of)


class UnknownTaskError(GymarenaError, KeyError):
    """A task id that is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownSuiteError(GymarenaError):
    """A suite name or path that does not resolve to a suite file."""


class SuiteFormatError(GymarenaError):
    """A suite or catalog file whose content does not match the expected schema."""


class MissingExtraError(GymarenaError, ImportError):
    """A simulator (or other optional library) whose pip extra is not installed."""

    def __init__(self, family: str, extra: str, cause: BaseException | str | None = None, what: str = "simulator"):
        self.family = family
        self.extra = extra
        self.what = what
        detail = f" ({cause})" if cause else ""
        super().__init__(
            f"the {family} {what} is not installed{detail}; "
            f"install it with: pip install 'gymarena[{extra}]'"
        )
        self._cause_text = None if cause is None else str(cause)

    def __reduce__(self):  # keep it picklable across worker processes
        return (MissingExtraError, (self.family, self.extra, self._cause_text, self.what))


class AgentLoadError(GymarenaError):
    """An agent reference that cannot be imported or does not name an agent."""


class AgentError(GymarenaError):
    """An agent that raised, or returned an action outside the action space."""


class InvalidActionError(AgentError):
    """An action outside the task's action space."""


class ResultsStoreError(GymarenaError):
    """A results database that cannot be opened or written."""


class RunConfigError(GymarenaError):
    """Evaluation options that contradict each other or a stored run."""


class SimulatorError(GymarenaError):
    """An environment that raised while being made, reset or stepped."""


class SimulatorCrashed(SimulatorError):
    """A simulator's own process (its runtime's env server) died in the middle of a call;
    ``cause`` says how (a signal name or an exit code)."""

    def __init__(self, message: str, cause: str):
        super().__init__(message)
        self.cause = cause


class DatasetError(GymarenaError):
    """An offline dataset that cannot be found or read."""


MAX_REASON_CHARS = 4_000  # a stored failure reason or log tail: enough to act on, never megabytes


def capped(text: str | None, limit: int = MAX_REASON_CHARS) -> str | None:
    """``text`` cut to ``limit`` characters, saying how much was left out (None stays None),
    and storable (:func:`storable`). Failure reasons and log tails come from untrusted code:
    they are stored and shown capped."""
    if text is None:
        return None
    text = storable(text)
    if len(text) <= limit:
        return text
    note = f" [... {len(text) - limit + 60:,} more characters cut]"
    return text[: limit - 60] + note


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and a surrogate alone (in a str, every one is)


def storable(text: str) -> str:
    """``text`` as every supported database can store it: NUL (which PostgreSQL's text and
    JSON refuse) and lone surrogates (not UTF-8) replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def unstorable(value: object, where: str = "") -> str | None:
    """Where a JSON-like value a client sent holds text no database stores (NUL, a lone
    surrogate), as one line naming the field; None if it holds none. Checked before
    anything of an upload is accepted: one such string would fail every later write of it."""
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        if found is None:
            return None
        what = "a NUL character" if found.group() == "\x00" else f"a lone surrogate (U+{ord(found.group()):04X})"
        return f"{where or 'the text'} holds {what}, which no results database stores: send text without it"
    if isinstance(value, dict):
        for key, item in value.items():
            place = f"{where}.{key}" if where else str(key)
            problem = unstorable(key, f"a key of {where or 'the document'}") or unstorable(item, place)
            if problem:
                return problem
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if problem := unstorable(item, f"{where}[{index}]"):
                return problem
    return None


def raised_at(exc: BaseException) -> str:
    """Where ``exc`` was raised, as `` (at FILE:LINE in FUNCTION)``: the innermost frame of the
    traceback outside Python's own installation and gymarena (the user's code, when it
    is there), else the innermost frame; "" without a traceback."""
    import sys
    from pathlib import Path

    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    if not frames:
        return ""
    ours = (sys.base_prefix, sys.prefix, str(Path(__file__).parent))
    theirs = [f for f in frames if not f.tb_frame.f_code.co_filename.startswith(ours)]
    frame = (theirs or frames)[-1]
    return f" (at {frame.tb_frame.f_code.co_filename}:{frame.tb_lineno} in {frame.tb_frame.f_code.co_name})"
