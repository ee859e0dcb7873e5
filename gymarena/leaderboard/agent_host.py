"""The process a submitted agent runs in (inside the sandbox): it loads the agent from its
package and answers the worker's requests, one frame in, one frame out.

    python -m gymarena.leaderboard.agent_host PACKAGE_DIR ENTRY_POINT IN_FD OUT_FD

Requests: ``make`` (task spec and space descriptions), ``call`` (an Agent method:
reset, act, act_sequence, begin_trial, begin_episode, observe). Answers carry
``value`` or ``error``. The agent's own prints go to stdout/stderr (the worker's log),
never into the frames.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

CALLABLE = ("reset", "act", "act_sequence", "begin_trial", "begin_episode", "observe", "close")
OPTIONAL = ("act_sequence", "begin_trial", "begin_episode", "observe", "close")


def _serve(package: str, entry_point: str, inbound: int, outbound: int) -> None:
    from gymarena.agents import load_agent
    from gymarena.wire.frames import FrameError, read_frame, write_frame
    from gymarena.wire.spaces import build
    from gymarena.tasks import TaskSpec

    file, _, attr = entry_point.partition(":")
    source = load_agent(f"{os.path.join(package, file)}:{attr}")
    agent: Any = None
    while True:
        try:
            request = read_frame(inbound)
        except FrameError:  # the worker closed the pipe: done
            return
        try:
            if request["op"] == "make":
                task = TaskSpec.from_json_dict(request["task"])
                agent = source.make(task, build(request["observation_space"]), build(request["action_space"]))
                value: Any = [name for name in OPTIONAL if callable(getattr(agent, name, None))]
            elif request["op"] == "call" and request["method"] in CALLABLE and agent is not None:
                value = getattr(agent, request["method"])(*request.get("args", []), **request.get("kwargs", {}))
                if request["method"] == "act_sequence":
                    value = list(value)
            elif request["op"] == "stop":
                return
            else:
                raise ValueError(f"unknown request {request.get('op')!r}")
            answer = {"value": value}
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]}
        try:
            write_frame(outbound, answer)
        except Exception as exc:  # the agent's value cannot cross (a str action for a Box, an object, ...)
            write_frame(outbound, {"error": f"the agent returned a value that cannot be sent: {exc}"})


def main() -> None:
    package, entry_point, inbound, outbound = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    try:
        _serve(package, entry_point, inbound, outbound)
    except Exception as exc:  # loading failed: say why on the log, and to the worker if it can hear
        print(f"agent host failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        traceback.print_exc()
        sys.exit(3)


if __name__ == "__main__":
    main()
