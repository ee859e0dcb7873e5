"""The process a simulator runs in when its family is isolated: it builds one task's env
and answers the runner's requests, one frame in, one frame out.

    python -m gymarena.runtimes.env_server IN_FD OUT_FD

It runs under the interpreter of the family's runtime (its own virtual environment, with
the family's pinned packages), so it imports nothing beyond gymarena's core and that
family's wrapper. Requests: ``make`` (task spec, overrides; answered with the spaces
described as data and the simulator versions), ``reset``, ``step``, ``close``. Answers
carry ``value`` or ``error``. The simulator's own prints go to stderr, never into frames.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import numpy as np

from gymarena.wire.frames import ALLOWED_DTYPES
from gymarena.wire.requests import Stop, answer_requests


def frame_safe(value: Any, depth: int = 0) -> Any:
    """``value`` with what frames cannot carry made plain: numpy scalars to numbers, other
    arrays and objects to their repr, dict keys to strings. Infos hold all sorts."""
    if depth > 20:
        return repr(value)
    if isinstance(value, np.ndarray):
        return value if value.dtype.name in ALLOWED_DTYPES else repr(value.tolist())
    if isinstance(value, np.generic):
        return value.item() if value.dtype.name in ALLOWED_DTYPES else repr(value)
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, tuple):
        return tuple(frame_safe(v, depth + 1) for v in value)
    if isinstance(value, list):
        return [frame_safe(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): frame_safe(v, depth + 1) for k, v in value.items()}
    return repr(value)


def _serve(inbound: int, outbound: int) -> None:
    from gymarena.tasks import TaskSpec
    from gymarena.wire.spaces import describe
    from gymarena.wrappers import family_of, make_local_env

    env: Any = None

    def handle(request: dict[str, Any]) -> Any:
        nonlocal env
        op = request["op"]
        if op == "make":
            task = TaskSpec.from_json_dict(request["task"])
            env = make_local_env(task, **request.get("overrides", {}))
            return {"observation_space": describe(env.observation_space), "action_space": describe(env.action_space),
                    "simulator_versions": family_of(task).local_simulator_versions(),
                    "python": sys.version.split()[0], "prefix": sys.prefix}
        if op == "reset":
            return frame_safe(env.reset(seed=request.get("seed"), options=request.get("options")))
        if op == "step":
            return frame_safe(env.step(request["action"]))
        if op == "close":
            raise Stop
        raise ValueError(f"unknown request {op!r}")

    try:
        answer_requests(inbound, outbound, handle, unsendable="the simulator returned what cannot be sent")
    finally:
        if env is not None:
            env.close()


def main() -> None:
    inbound, outbound = int(sys.argv[1]), int(sys.argv[2])
    os.dup2(2, 1)  # whatever the simulator prints goes to the log, not to the runner's stdout
    try:
        _serve(inbound, outbound)
    except Exception as exc:
        print(f"env server failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        traceback.print_exc()
        sys.exit(3)


if __name__ == "__main__":
    main()
