"""``gymarena install FAMILY``: a virtual environment of the family's own, so simulators
whose dependencies collide with the rest (Super Mario Bros on numpy<2, pysc2's protobuf)
still run from the main environment.

The runtime gets gymarena's core requirements (pinned to the versions installed here,
unless the family pins them otherwise), the family's packages (its pins, else the versions
installed here, else its extra's requirement), and this very gymarena source through a
``.pth`` file: the env server in the runtime always runs the same gymarena code as the
runner talking to it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from gymarena.errors import GymarenaError, param
from gymarena.runtimes.registry import Runtime, load_runtime, runtime_path, write_record
from gymarena.runtimes.remote_env import runtime_environment

GYMARENA_SOURCE = Path(__file__).resolve().parents[1]  # the package the runtime's env server imports


class RuntimeInstallError(GymarenaError):
    """Building a family's runtime failed; the message carries the failing step's output."""


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pinned_here(requirement: str) -> str:
    """``requirement`` pinned to the version installed in this environment, if any."""
    name = _name(requirement)
    try:
        return f"{name}=={metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return requirement.split(";")[0].strip()


def _gymarena_requirements(extra: str | None) -> list[str]:
    """gymarena's core requirements, or those of one extra, as declared in its metadata."""
    wanted = [] if extra is None else [f'extra == "{extra}"', f"extra == '{extra}'"]
    found = []
    for requirement in metadata.requires("gymarena") or []:
        _, _, marker = requirement.partition(";")
        is_extra = "extra ==" in marker
        if (extra is None and not is_extra) or (extra is not None and any(w in marker for w in wanted)):
            if extra is None and "python_version" in marker:
                continue  # tomli on old Pythons: pip would decide; the runtime's Python is new enough
            found.append(requirement.split(";")[0].strip())
    return found


def runtime_requirements(family: str) -> list[str]:
    """What ``gymarena install FAMILY`` installs, as pip requirements."""
    from gymarena.wrappers import FAMILIES

    spec = FAMILIES[family]
    pins = list(spec.runtime_pins)
    pinned = {_name(p) for p in pins}
    core = [_pinned_here(r) for r in _gymarena_requirements(None) if _name(r) not in pinned]
    extra = [r for r in _gymarena_requirements(spec.extra) if _name(r) not in pinned] if spec.extra else []
    return core + [_pinned_here(r) for r in extra] + pins


def _run(step: str, command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=runtime_environment())
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip()[-3000:]
        raise RuntimeInstallError(f"{step} failed (exit code {result.returncode}): {' '.join(command)}\n{tail}")
    return result.stdout


def install_runtime(family: str, python: str | None = None, say: Callable[[str], None] = print) -> Runtime:
    """Build (or rebuild) the runtime of ``family`` with interpreter ``python`` (default:
    this one) and record it."""
    from gymarena.wrappers import FAMILIES

    if family not in FAMILIES:
        raise GymarenaError(f"there is no family {family!r}; families: {', '.join(sorted(FAMILIES))}")
    base = python or sys.executable
    if shutil.which(base) is None and not Path(base).exists():
        raise RuntimeInstallError(f"there is no Python interpreter {base!r}: give {param('python')} PATH")
    root = runtime_path(family)
    if root.exists():
        say(f"removing the previous runtime at {root}")
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    say(f"creating a virtual environment at {root} with {base}")
    _run("creating the virtual environment", [base, "-m", "venv", str(root)])
    interpreter = str(root / "bin" / "python")
    requirements = runtime_requirements(family)
    say(f"installing {len(requirements)} requirements: {' '.join(requirements)}")
    _run("installing the requirements", [interpreter, "-m", "pip", "install", "--disable-pip-version-check", "-q", *requirements])
    _link_gymarena(root, interpreter)
    _run("checking the env server imports", [interpreter, "-c", "import gymarena.runtimes.env_server, gymarena.wrappers"])
    listing = _run("listing the installed packages",
                   [interpreter, "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"])
    installed = {p["name"].lower(): p["version"] for p in json.loads(listing)}
    version = _python_version(interpreter)
    runtime = Runtime(family, str(root), interpreter, version, requirements, installed,
                      datetime.now(timezone.utc).isoformat(timespec="seconds"))
    write_record(runtime)
    say(f"installed the {family} runtime (Python {version})")
    return runtime


def outdated_reason(family: str, python: str | None = None) -> str:
    """Why the family's runtime needs (re)building: '' when it is installed, its interpreter
    is there, and it has the requirements and the gymarena source this install would give it."""
    runtime = load_runtime(family)
    if runtime is None:
        return "not installed"
    if not Path(runtime.python).exists():
        return f"its interpreter {runtime.python} is missing"
    if python is not None:
        try:
            wanted = _python_version(python)
        except (OSError, RuntimeInstallError):
            return f"{python} could not be asked its version"
        if wanted != runtime.python_version:
            return f"it runs Python {runtime.python_version}, not {wanted}"
    if runtime.requirements != runtime_requirements(family):
        return "its requirements changed"
    linked = Path(runtime.root) / "gymarena-source" / "gymarena"
    if not linked.exists() or linked.resolve() != GYMARENA_SOURCE:
        return "it runs another gymarena source"
    return ""


def _python_version(interpreter: str) -> str:
    return _run("asking the interpreter's version", [interpreter, "-c", "import sys; print(sys.version.split()[0])"]).strip()


def _link_gymarena(root: Path, interpreter: str) -> None:
    """Make this gymarena source importable in the runtime, and nothing else of this
    environment: a directory holding only a link to the package, named in a .pth file."""
    source = root / "gymarena-source"
    source.mkdir()
    (source / "gymarena").symlink_to(GYMARENA_SOURCE, target_is_directory=True)
    site_packages = _run("finding the runtime's site-packages",
                         [interpreter, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    (Path(site_packages) / "gymarena-source.pth").write_text(f"{source}\n")


def ensure_runtime(family: str, python: str | None = None, if_needed: bool = False,
                   say: Callable[[str], None] = print) -> bool:
    """Build the family's runtime, or with ``if_needed`` keep it when it is current; True if built."""
    if if_needed and not outdated_reason(family, python):
        say(f"the {family} runtime is current; kept")
        return False
    install_runtime(family, python, say=say)
    return True

