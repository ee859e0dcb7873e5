"""The process a submitted agent runs in (inside the sandbox): it loads the agent from its
package and answers the worker's requests, one frame in, one frame out.

    python -m gymarena.leaderboard.agent_host PACKAGE_DIR ENTRY_POINT IN_FD OUT_FD

Requests: ``make`` (task spec, space descriptions and, for an algorithm's package, the
checkpoint file to load; the answer names the optional
methods the agent has), ``call`` (an Agent method: reset, act, act_sequence,
begin_trial, begin_episode, observe, act_batch, reset_slot). Answers carry ``value`` or ``error``. The agent's
end is the worker's to decide (it kills this process): no ``close`` is called here.
The agent's own prints go to stdout/stderr (the worker's log), never into the frames.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

OPTIONAL = ("act_sequence", "begin_trial", "begin_episode", "observe", "act_batch", "reset_slot")  # sandbox.OFFERABLE
CALLABLE = ("reset", "act", *OPTIONAL)


def _serve(package: str, entry_point: str, inbound: int, outbound: int) -> None:
    from gymarena.agents import load_agent
    from gymarena.tasks import TaskSpec
    from gymarena.wire.requests import Stop, answer_requests
    from gymarena.wire.spaces import build

    file, _, attr = entry_point.partition(":")
    source = load_agent(f"{os.path.join(package, file)}:{attr}")
    agent: Any = None

    def handle(request: dict[str, Any]) -> Any:
        nonlocal agent
        if request["op"] == "make":
            task = TaskSpec.from_json_dict(request["task"])
            checkpoint = request.get("checkpoint")  # checked by the worker against the manifest
            path = None if checkpoint is None else os.path.join(package, checkpoint)
            agent = source.make(task, build(request["observation_space"]), build(request["action_space"]), checkpoint=path)
            return [name for name in OPTIONAL if callable(getattr(agent, name, None))]
        if request["op"] == "call" and request["method"] in CALLABLE and agent is not None:
            value = getattr(agent, request["method"])(*request.get("args", []), **request.get("kwargs", {}))
            return list(value) if request["method"] == "act_sequence" else value
        if request["op"] == "stop":
            raise Stop
        raise ValueError(f"unknown request {request.get('op')!r}")

    answer_requests(inbound, outbound, handle, unsendable="the agent returned a value that cannot be sent")


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
