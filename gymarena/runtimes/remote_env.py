"""A Gymnasium env whose simulator runs in another interpreter (a family's runtime).

``RemoteEnv(task, runtime)`` starts ``gymarena.runtimes.env_server`` under the runtime's
Python, asks it to build the task, and from then on forwards ``reset``/``step``/``close``
as frames over two pipes (numpy arrays as raw buffers, spaces described once at
connect). To the runner it is an ordinary env. If the server dies, the call raises
``SimulatorCrashed`` naming how it died; the env cannot be used again.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from typing import Any

import gymnasium

from gymarena.errors import SimulatorCrashed, SimulatorError
from gymarena.runtimes.registry import Runtime
from gymarena.tasks import TaskSpec
from gymarena.wire.frames import FrameError, read_frame, write_frame
from gymarena.wire.spaces import build


def runtime_environment() -> dict[str, str]:
    """Environment variables for a runtime's interpreter: its own packages only, not this environment's."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


VERSIONS_QUERY = (
    "import json, sys; from gymarena.wrappers import FAMILIES; "
    "print(json.dumps(FAMILIES[sys.argv[1]].local_simulator_versions()))"
)


def runtime_simulator_versions(runtime: Runtime) -> dict[str, str]:
    """What fixes the family's simulator as its runtime sees it now (package versions and
    protocol facts, such as a ROM digest or a game build found through the environment)."""
    result = subprocess.run([runtime.python, "-c", VERSIONS_QUERY, runtime.family], capture_output=True,
                            text=True, env=runtime_environment(), timeout=120)
    if result.returncode != 0:
        raise SimulatorError(
            f"the {runtime.family} runtime ({runtime.root}) cannot report its simulator versions; "
            f"run `gymarena install {runtime.family}` again:\n{result.stderr.strip()[-2000:]}"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


class RemoteEnv(gymnasium.Env):
    def __init__(self, task: TaskSpec, python: str, overrides: dict[str, Any] | None = None, label: str | None = None):
        self.task = task
        self.label = label or f"the {task.family} runtime"
        to_server, self._to_server = os.pipe()
        self._from_server, from_server = os.pipe()
        try:
            self._process = subprocess.Popen(
                [python, "-m", "gymarena.runtimes.env_server", str(to_server), str(from_server)],
                pass_fds=(to_server, from_server), stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(),
                env=runtime_environment(),
            )
        except OSError as exc:
            for fd in (to_server, from_server, self._to_server, self._from_server):
                os.close(fd)
            raise SimulatorError(f"cannot start {self.label} ({python}): {exc}") from None
        os.close(to_server)
        os.close(from_server)
        self._closed = False
        made = self._call({"op": "make", "task": task.to_json_dict(), "overrides": overrides or {}})
        self.observation_space = build(made["observation_space"])
        self.action_space = build(made["action_space"])
        self.simulator_versions: dict[str, str] = made["simulator_versions"]
        self.python_version: str = made["python"]
        self.server_prefix: str = made["prefix"]  # the environment the simulator runs in

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)  # this side's np_random follows the seed too, as Gymnasium expects
        observation, info = self._call({"op": "reset", "seed": seed, "options": options})
        return observation, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self._call({"op": "step", "action": action})
        return observation, reward, terminated, truncated, info

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(FrameError, OSError):
            write_frame(self._to_server, {"op": "close"})
        for fd in (self._to_server, self._from_server):
            os.close(fd)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _call(self, request: dict[str, Any]) -> Any:
        if self._closed:
            raise SimulatorError(f"{self.task.id}: the env is closed")
        try:
            write_frame(self._to_server, request)
            answer = read_frame(self._from_server)
        except (FrameError, OSError):
            raise self._crashed(request["op"]) from None
        if "error" in answer:
            raise SimulatorError(f"{self.task.id} raised {answer['error']} in {request['op']} ({self.label})")
        return answer["value"]

    def _crashed(self, op: str) -> SimulatorCrashed:
        try:
            code = self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            code = self._process.wait()
        self._closed = True
        for fd in (self._to_server, self._from_server):
            with contextlib.suppress(OSError):
                os.close(fd)
        cause = signal.Signals(-code).name if code < 0 else f"exit code {code}"
        return SimulatorCrashed(f"{self.task.id}: the simulator process of {self.label} died ({cause}) during {op}", cause)
