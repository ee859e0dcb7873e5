"""Untrusted agents in a sandboxed child process, seen by the runner as ordinary agents.

The worker starts the agent host (agent_host.py) under bubblewrap: new mount, network,
PID, IPC and UTS namespaces (no network at all, not even loopback to the host), a root
holding only read-only binds of /usr, the Python installation and gymarena, the agent's
package read-only at /agent, and a private /tmp. Inside, ``setpriv`` drops to the
``nobody`` user with no capabilities and no new privileges, so the process limits
(rlimits) apply: CPU seconds, address space, processes and file size. The database,
the hidden seeds, tokens and the environment stay in the worker, which talks to the
agent through two pipes in length-prefixed frames (frames.py, no pickle) and enforces
wall-clock limits per answer and per episode; any breach kills the sandbox and fails
the episode with a reason that says what happened.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gymarena.errors import AgentError, GymarenaError
from gymarena.tasks import TaskSpec
from gymarena.wire.frames import (
    FrameError,
    FrameTimeout,
    read_frame,
    write_frame,
)
from gymarena.wire.spaces import describe

NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    """What a sandboxed agent may use."""

    cpu_seconds: int = 3600
    memory_bytes: int = 4 * 1024**3
    processes: int = 64
    file_bytes: int = 64 * 1024**2
    start_seconds: float = 120.0  # to import the agent and build it
    step_seconds: float = 10.0  # per answer (act, reset, ...)
    episode_seconds: float = 900.0


class SandboxError(AgentError):
    """The sandboxed agent broke a limit or the protocol; its process is gone."""


def sandbox_available() -> tuple[bool, str]:
    """(usable, why not): bubblewrap and setpriv installed, and namespaces allowed."""
    for tool, package in (("bwrap", "bubblewrap"), ("setpriv", "util-linux")):
        if shutil.which(tool) is None:
            return False, f"{tool} is not installed (apt-get install {package})"
    probe = subprocess.run([*_system(), "/usr/bin/true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return False, f"bubblewrap cannot make namespaces here: {probe.stderr.strip()}"
    return True, ""


def _python_roots() -> list[str]:
    """Directories the agent host's interpreter needs: the installation and gymarena."""
    import gymarena

    roots = {sys.base_prefix, sys.prefix, sys.exec_prefix, str(Path(gymarena.__file__).parent)}
    roots = {r for r in roots if not r.startswith("/usr/")}
    return sorted(r for r in roots if not any(r != o and r.startswith(o + "/") for o in roots))


def _system() -> list[str]:
    """bubblewrap with fresh namespaces (no network) and a read-only system: /usr only."""
    command = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--die-with-parent", "--new-session",
               "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/bin", "/bin",
               "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    if Path("/lib64").exists():
        command += ["--symlink", "usr/lib64", "/lib64"]
    return command


def sandbox_command(package: Path, entry_point: str, inbound: int, outbound: int, sandboxed: bool = True) -> list[str]:
    host = [sys.executable, "-I", "-m", "gymarena.leaderboard.agent_host", "/agent" if sandboxed else str(package),
            entry_point, str(inbound), str(outbound)]
    if not sandboxed:
        return host
    command = [*_system(), "--ro-bind", str(package), "/agent"]
    roots = _python_roots()
    parents = sorted({str(p) for root in roots for p in Path(root).parents if str(p) != "/"} - set(roots))
    for parent in parents:  # bwrap would make them 0700, which nobody cannot cross
        command += ["--perms", "0755", "--dir", parent]
    for root in roots:
        command += ["--ro-bind", root, root]
    command += ["--clearenv", "--setenv", "HOME", "/tmp", "--setenv", "PATH", "/usr/bin", "--setenv", "TMPDIR", "/tmp",
                "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "OMP_NUM_THREADS", "1", "--chdir", "/tmp",
                "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", "--"]
    return command + host


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                count += os.stat(entry.path).st_uid == uid
    return count


def _limit(limits: Limits):
    processes = _processes_of(NOBODY) + limits.processes

    def apply() -> None:  # in the child, before exec; inherited by the agent host
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


class SandboxedAgent:
    """An Agent whose every call is a request to the sandboxed agent host."""

    def __init__(self, package: Path, entry_point: str, task: TaskSpec, observation_space: Any, action_space: Any,
                 limits: Limits, log_path: Path, sandboxed: bool = True):
        self.limits = limits
        self.log_path = log_path
        to_host, self._host_in = os.pipe()
        self._host_out, from_host = os.pipe()
        self._send_fd, self._receive_fd = self._host_in, self._host_out
        log = open(log_path, "ab")  # noqa: SIM115  the child writes it; closed below once it has its copy
        try:
            self.process = subprocess.Popen(
                sandbox_command(package, entry_point, to_host, from_host, sandboxed),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(to_host, from_host),
                preexec_fn=_limit(limits), start_new_session=True,
            )
        finally:
            log.close()
            os.close(to_host)
            os.close(from_host)
        self.episode_started = time.monotonic()
        offered = self._request({"op": "make", "task": task.to_json_dict(), "observation_space": describe(observation_space),
                                 "action_space": describe(action_space)}, limits.start_seconds, "starting")
        for name in offered:  # expose exactly the optional methods the agent has
            setattr(self, name, self._method(name))

    def _method(self, name: str):
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._call(name, *args, **kwargs)

        return call

    def reset(self, seed: int | None = None) -> None:
        self.episode_started = time.monotonic()
        self._call("reset", seed=seed)

    def act(self, observation: Any) -> Any:
        return self._call("act", observation)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if method in ("begin_trial", "begin_episode"):
            self.episode_started = time.monotonic()
        if time.monotonic() - self.episode_started > self.limits.episode_seconds:
            self._fail(f"the agent used more than {self.limits.episode_seconds:g} s of wall-clock time in one episode")
        return self._request({"op": "call", "method": method, "args": list(args), "kwargs": kwargs},
                             self.limits.step_seconds, method)

    def _request(self, message: dict[str, Any], timeout: float, what: str) -> Any:
        try:
            write_frame(self._send_fd, message)
            answer = read_frame(self._receive_fd, timeout)
        except FrameTimeout:
            self._fail(f"the agent did not answer {what} within {timeout:g} s")
        except (FrameError, OSError) as exc:
            self._fail(f"the agent process broke the protocol or died during {what}: {exc}{self._exit_note()}")
        if not isinstance(answer, dict) or not ("value" in answer or "error" in answer):
            self._fail(f"the agent process sent a malformed answer to {what}")
        if "error" in answer:
            raise AgentError(f"the agent raised {answer['error']} in {what}")
        return answer["value"]

    def _exit_note(self) -> str:
        code = self.process.poll()
        if code is None:
            return ""
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else f"signal {-code}"
            return f" (killed by {name}{', the CPU-time limit' if name == 'SIGXCPU' else ''})"
        return f" (exit code {code})"

    def _fail(self, reason: str) -> None:
        self.close()
        raise SandboxError(f"{reason}; its sandbox was stopped")

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for fd in (self._send_fd, self._receive_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._send_fd = self._receive_fd = -1

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)


def tail(path: Path, lines: int = 40) -> str:
    try:
        with open(path, "rb") as log:
            return b"".join(deque(log, maxlen=lines)).decode(errors="replace")[-8000:]
    except OSError:
        return ""


def require_sandbox(unsafe_no_sandbox: bool) -> bool:
    """Whether agents will be sandboxed; refuses to run untrusted code otherwise."""
    available, reason = sandbox_available()
    if available:
        return True
    if unsafe_no_sandbox:
        return False
    raise GymarenaError(f"cannot sandbox submitted agents: {reason}; a worker without a sandbox runs untrusted code "
                        "as itself, so it refuses to start unless given --unsafe-no-sandbox")
