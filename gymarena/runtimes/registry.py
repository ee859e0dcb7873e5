"""Where isolated simulator runtimes live and what each one holds.

A runtime is a virtual environment for one family under ``runtimes_dir()/FAMILY``
(``$GYMARENA_RUNTIMES``, else the user's data directory), recorded in its own
``runtime.json`` (written last by ``gymarena install``: a runtime without it is not
installed).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from gymarena.errors import GymarenaError

RECORD = "runtime.json"


class RuntimeMissingError(GymarenaError):
    """A family's isolated runtime is not installed (or is broken)."""


@dataclass(frozen=True)
class Runtime:
    family: str
    root: str  # the virtual environment
    python: str  # its interpreter
    python_version: str
    requirements: list[str]  # what was installed, as pip requirements
    installed: dict[str, str]  # package -> version, as pip resolved them
    created_at: str


def runtimes_dir() -> Path:
    configured = os.environ.get("GYMARENA_RUNTIMES")
    if configured:
        return Path(configured)
    from platformdirs import user_data_dir

    return Path(user_data_dir("gymarena")) / "runtimes"


def runtime_path(family: str) -> Path:
    return runtimes_dir() / family


def load_runtime(family: str) -> Runtime | None:
    """The family's installed runtime, or None."""
    record = runtime_path(family) / RECORD
    if not record.is_file():
        return None
    return Runtime(**json.loads(record.read_text()))


def require_runtime(family: str) -> Runtime:
    """The family's runtime, or an error that says how to install it."""
    runtime = load_runtime(family)
    if runtime is None:
        raise RuntimeMissingError(
            f"the isolated runtime of {family} is not installed (looked in {runtime_path(family)}): "
            f"run `gymarena install {family}`"
        )
    if not Path(runtime.python).exists():
        raise RuntimeMissingError(
            f"the {family} runtime's interpreter {runtime.python} is missing (was it removed?): "
            f"run `gymarena install {family}` again"
        )
    return runtime


def write_record(runtime: Runtime) -> None:
    path = Path(runtime.root) / RECORD
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(runtime), indent=2) + "\n")
    temporary.replace(path)
