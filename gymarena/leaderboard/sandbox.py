"""Untrusted agents in a sandboxed child process, seen by the runner as ordinary agents.

The worker starts the agent host (agent_host.py) under bubblewrap: new mount, network,
PID, IPC and UTS namespaces (no network at all, not even loopback to the host), a root
holding only read-only binds of /usr, the Python installation and gymarena, the agent's
package read-only at /agent, and a private, size-limited, writable /tmp (a tmpfs; HOME
and the caches point into it). Inside, ``setpriv`` drops to the ``nobody`` user with no
capabilities and no new privileges, so the process limits (rlimits) apply: CPU seconds,
address space, processes and file size. The database, the hidden seeds and their salt,
tokens and the environment stay in the worker, which talks to the agent through two
pipes in length-prefixed frames (frames.py, no pickle) and enforces wall-clock limits per
answer, per episode and per submission.

The worker owns the sandbox's life: whatever the agent answers, its process is killed
when the agent fails, times out, breaks the protocol or is done (``close``, which is
never the agent's to replace: an agent may offer only the optional methods in
``OFFERABLE``, each bound by name to a remote call). In verified runs the agent's
``reset`` gets ``protocol.agent_seed(key, episode seed, task)``, never the episode seed.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from gymarena.errors import AgentError, GymarenaError, capped
from gymarena.leaderboard.boards import Board
from gymarena.protocol import agent_seed
from gymarena.tasks import TaskSpec
from gymarena.wire.frames import (
    FrameError,
    FrameTimeout,
    read_frame,
    write_frame,
)
from gymarena.wire.spaces import describe

NOBODY = 65534
# The optional Agent methods a sandboxed agent may offer (anything else it names is a breach).
OFFERABLE = ("act_sequence", "begin_trial", "begin_episode", "observe", "act_batch", "reset_slot")
MAX_AGENT_ERROR_CHARS = 2_000  # an agent's exception text, as the worker passes it on


@dataclass(frozen=True)
class Limits:
    """What a sandboxed agent may use. ``cpu_seconds`` bounds the sandbox as a whole: the
    CPU time of every process in it, reaped children included (each process also has it as
    its RLIMIT_CPU), so forking burners buys nothing."""

    cpu_seconds: int = 3600
    memory_bytes: int = 4 * 1024**3
    processes: int = 64
    file_bytes: int = 64 * 1024**2
    tmp_bytes: int = 256 * 1024**2  # its private /tmp (HOME and caches), a tmpfs of this size
    start_seconds: float = 120.0  # to import the agent and build it
    step_seconds: float = 10.0  # per answer (act, reset, ...)
    episode_seconds: float = 900.0
    submission_seconds: float | None = None  # the whole submission; None: sized to the suite (submission_budget)
    mean_step_seconds: float = 0.05  # what the default submission budget allows per step on average
    cav_tests_per_second: float = 100.0  # what a CAV board's budget allows a sandboxed AV (act_batch over pipes)
    max_player_seconds: float = 6 * 3600.0  # the most a budget gives one agent or checkpoint, whatever the suite
    max_submission_seconds: float = 24 * 3600.0  # the most a budget gives a whole submission (all its checkpoints)


def submission_budget(protocol: Any, limits: Limits, board: Board | None = None, players: int = 1) -> float:
    """The wall-clock seconds a whole submission of ``players`` agents (an algorithm's
    checkpoints) may take on ``protocol`` (a RunProtocol) of a ``board``:
    ``limits.submission_seconds`` if set, else per player a start per task plus

    - on a CAV board, every planned test at ``limits.cav_tests_per_second`` (its tests are
      played in batches: a test is not hundreds of the agent's calls);
    - elsewhere, every planned step at ``limits.mean_step_seconds`` (steps: the task's
      limit, 1000 where the env sets its own);

    never under 10 minutes per player, nor over ``max_player_seconds`` per player and
    ``max_submission_seconds`` in all."""
    if limits.submission_seconds is not None:
        return limits.submission_seconds
    start = len(protocol) * limits.start_seconds
    if board is not None and board.counts_tests:
        playing = sum(task.expected_episodes for task in protocol) / limits.cav_tests_per_second
    else:
        steps = sum(task.expected_episodes * (task.spec.max_episode_steps or 1000) for task in protocol)
        playing = steps * limits.mean_step_seconds
    per_player = min(limits.max_player_seconds, max(600.0, start + playing))
    return min(limits.max_submission_seconds, per_player * players)


CPU_POLL_SECONDS = 0.5  # how often the worker adds up a sandbox's CPU time
_TICKS = os.sysconf("SC_CLK_TCK")


def sandbox_cpu_seconds(root: int) -> float:
    """The CPU time of the process tree under ``root`` (root included): each live process's
    own time plus that of the children it reaped. A child's time moves into its parent's
    when reaped, and an orphan is reaped inside the sandbox (bubblewrap's init), so every
    CPU-second of the sandbox is counted once, whatever forked or exited."""
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    tree, frontier = {root}, [root]
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(times.get(pid, 0) for pid in tree) / _TICKS


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
               "--proc", "/proc", "--dev", "/dev"]
    if Path("/lib64").exists():
        command += ["--symlink", "usr/lib64", "/lib64"]
    return command


def sandbox_command(package: Path, entry_point: str, inbound: int, outbound: int, sandboxed: bool = True,
                    tmp_bytes: int = Limits.tmp_bytes) -> list[str]:
    host = [sys.executable, "-I", "-m", "gymarena.leaderboard.agent_host", "/agent" if sandboxed else str(package),
            entry_point, str(inbound), str(outbound)]
    if not sandboxed:
        return host
    command = [*_system(), "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp",
               "--perms", "0777", "--dir", "/tmp/home", "--ro-bind", str(package), "/agent"]
    roots = _python_roots()
    parents = sorted({str(p) for root in roots for p in Path(root).parents if str(p) != "/"} - set(roots))
    for parent in parents:  # bwrap would make them 0700, which nobody cannot cross
        command += ["--perms", "0755", "--dir", parent]
    for root in roots:
        command += ["--ro-bind", root, root]
    command += ["--clearenv", "--setenv", "HOME", "/tmp/home", "--setenv", "PATH", "/usr/bin", "--setenv", "TMPDIR", "/tmp",
                "--setenv", "XDG_CACHE_HOME", "/tmp/home/.cache", "--setenv", "MPLCONFIGDIR", "/tmp/home/.matplotlib",
                "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "OMP_NUM_THREADS", "1", "--chdir", "/tmp/home",
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
    """An Agent whose every call is a request to the sandboxed agent host.

    ``checkpoint``: the package file (one of its manifest's checkpoints) its factory loads.
    ``seed_key`` (verified runs): the agent's reset seeds become ``agent_seed(seed_key,
    seed)``. ``deadline`` (a ``time.monotonic()`` instant): the whole submission's end."""

    def __init__(self, package: Path, entry_point: str, task: TaskSpec, observation_space: Any, action_space: Any,
                 limits: Limits, log_path: Path, sandboxed: bool = True, seed_key: bytes | None = None,
                 deadline: float | None = None, checkpoint: str | None = None):
        self.limits = limits
        self.log_path = log_path
        self.seed_key = seed_key
        self.task_id = task.id
        self.deadline = deadline
        self._send_fd = self._receive_fd = -1
        to_host, self._send_fd = os.pipe()
        self._receive_fd, from_host = os.pipe()
        log = open(log_path, "ab")  # noqa: SIM115  the child writes it; closed below once it has its copy
        try:
            self.process = subprocess.Popen(
                sandbox_command(package, entry_point, to_host, from_host, sandboxed, limits.tmp_bytes),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(to_host, from_host),
                preexec_fn=_limit(limits), start_new_session=True,
            )
        except BaseException:
            self._close_pipes()
            raise
        finally:
            log.close()
            os.close(to_host)
            os.close(from_host)
        self.episode_started = time.monotonic()
        self.cpu_exceeded = False
        threading.Thread(target=self._watch_cpu, name="sandbox-cpu", daemon=True).start()
        try:
            make = {"op": "make", "task": task.to_json_dict(), "observation_space": describe(observation_space),
                    "action_space": describe(action_space)}
            if checkpoint is not None:
                make["checkpoint"] = checkpoint
            offered = self._request(make, limits.start_seconds, "starting")
            if not isinstance(offered, list) or not all(isinstance(name, str) for name in offered):
                self._fail("the agent process answered make with something other than a list of method names")
            unknown = sorted(set(offered) - set(OFFERABLE))
            if unknown:
                self._fail(f"the agent offered {', '.join(map(repr, unknown))[:200]}; an agent may offer only "
                           f"{', '.join(OFFERABLE)}")
        except BaseException:
            self.close()
            raise
        self.offered = tuple(name for name in OFFERABLE if name in offered)

    def __getattr__(self, name: str) -> Any:
        """The optional methods the agent offered (and only those), each a remote call."""
        if name in OFFERABLE and name in self.__dict__.get("offered", ()):
            if name == "reset_slot":  # its seed is keyed like reset's: never the episode's own
                return lambda slot, seed=None: self._call("reset_slot", slot, seed=seed)
            return lambda *args, **kwargs: self._call(name, *args, **kwargs)
        raise AttributeError(name)

    def _seed(self, seed: int | None) -> int | None:
        if self.seed_key is None or seed is None:
            return seed
        return agent_seed(self.seed_key, seed, self.task_id)

    def reset(self, seed: int | None = None) -> None:
        self.episode_started = time.monotonic()
        self._call("reset", seed=seed)

    def act(self, observation: Any) -> Any:
        return self._call("act", observation)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if method in ("reset", "begin_trial", "begin_episode", "reset_slot"):
            self.episode_started = time.monotonic()
        if "seed" in kwargs:
            kwargs["seed"] = self._seed(kwargs["seed"])
        if time.monotonic() - self.episode_started > self.limits.episode_seconds:
            self._fail(f"the agent used more than {self.limits.episode_seconds:g} s of wall-clock time in one episode")
        timeout = self.limits.step_seconds
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self._fail("the submission ran past its deadline (the worker's --submission-seconds)")
            timeout = min(timeout, left)
        return self._request({"op": "call", "method": method, "args": list(args), "kwargs": kwargs}, timeout, method)

    def _request(self, message: dict[str, Any], timeout: float, what: str) -> Any:
        if self._send_fd < 0:
            raise SandboxError(f"the agent's sandbox was already stopped; {what} cannot be answered")
        try:
            write_frame(self._send_fd, message)
            answer = read_frame(self._receive_fd, timeout)
        except FrameTimeout:
            late = self.deadline is not None and time.monotonic() >= self.deadline
            self._fail("the submission ran past its deadline (the worker's --submission-seconds)" if late
                       else f"the agent did not answer {what} within {timeout:g} s")
        except (FrameError, OSError) as exc:
            self._fail(f"the agent process broke the protocol or died during {what}: {exc}{self._exit_note()}")
        if not isinstance(answer, dict) or not ("value" in answer or "error" in answer):
            self._fail(f"the agent process sent a malformed answer to {what}")
        if "error" in answer:
            self.close()  # an agent that failed is done: its process goes at once
            raise AgentError(f"the agent raised {capped(str(answer['error']), MAX_AGENT_ERROR_CHARS)} in {what}; "
                             "its sandbox was stopped")
        return answer["value"]

    def _watch_cpu(self, every: float = CPU_POLL_SECONDS) -> None:
        """Kill the sandbox once all its processes together used more than ``cpu_seconds``."""
        process = self.process
        while process.poll() is None:
            if sandbox_cpu_seconds(process.pid) > self.limits.cpu_seconds:
                self.cpu_exceeded = True
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                return
            time.sleep(every)

    def _exit_note(self) -> str:
        if self.cpu_exceeded:
            return f" (killed: its processes used more than {self.limits.cpu_seconds} CPU-seconds in all, the sandbox's limit)"
        code = self.process.poll()
        if code is None:
            return ""
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else f"signal {-code}"
            return f" (killed by {name}{', the CPU-time limit' if name == 'SIGXCPU' else ''})"
        return f" (exit code {code})"

    def _fail(self, reason: str) -> NoReturn:
        self.close()
        raise SandboxError(f"{reason}; its sandbox was stopped")

    def close(self) -> None:
        """Kill the sandbox (its whole process group) and close the pipes; safe to repeat."""
        process = self.__dict__.get("process")
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for fd in (self._send_fd, self._receive_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._send_fd = self._receive_fd = -1

    @property
    def running(self) -> bool:
        process = self.__dict__.get("process")
        return process is not None and process.poll() is None

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
