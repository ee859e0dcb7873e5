"""Provenance stored with every run: what code, on what machine, with which packages."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from gymarena import versions

PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def git_commit(start: Path = PACKAGE_DIR) -> str | None:
    """The commit of the checkout gymarena runs from, read from .git without spawning git.

    None when gymarena is installed from a wheel rather than run from a checkout. Cached:
    it describes the code this process imported, which does not change while it runs.
    """
    for directory in (start, *start.parents):
        git_dir = directory / ".git"
        if git_dir.is_dir():
            return _resolve_head(git_dir)
    return None


def _resolve_head(git_dir: Path) -> str | None:
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    if not head.startswith("ref: "):
        return head or None
    ref = head[5:]
    ref_file = git_dir / ref
    if ref_file.is_file():
        return ref_file.read_text().strip() or None
    packed = git_dir / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha
    return None  # a branch with no commits yet


@cache
def git_dirty(start: Path = PACKAGE_DIR) -> bool | None:
    """Whether the checkout has uncommitted changes (None outside a checkout or without git)."""
    if git_commit(start) is None or shutil.which("git") is None:
        return None
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=start, capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(out.strip())


@lru_cache(maxsize=1)
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@lru_cache(maxsize=1)
def gpus() -> list[str]:
    """GPU names from nvidia-smi when it exists; an empty list otherwise."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


@cache
def own_dependencies() -> list[str]:
    """The installed distributions gymarena itself requires (extras excluded), from its metadata."""
    from importlib import metadata  # ~8 ms to import: only when provenance is collected

    try:
        requirements = metadata.requires("gymarena") or []
    except metadata.PackageNotFoundError:
        return []
    names = []
    for requirement in requirements:
        if "extra ==" in requirement:
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if match:
            names.append(match.group(0))
    installed = package_versions(names)
    return [name for name in names if installed[name] != "missing"]


def package_versions(packages: Iterable[str]) -> dict[str, str]:
    """The installed version of each distribution ('missing' when it is not installed)."""
    return {name: package_version(name) for name in sorted(set(packages))}


@cache
def package_version(name: str) -> str:
    """One distribution's version, read once per process (~0.7 ms each from its metadata): the
    code a process runs is what it imported, whatever is installed later."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


def collect(simulator_packages: Iterable[str] = ()) -> dict[str, Any]:
    """Everything a reader needs to know where a result came from."""
    from gymarena import __version__

    return {
        "gymarena": __version__,
        "git_commit": git_commit(),
        "git_dirty": git_dirty(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpu": gpus(),
        "packages": package_versions([*own_dependencies(), *simulator_packages]),
        # the source of what gymarena ships as it was here: evidence, never identity (its
        # versions are in the protocol)
        "shipped_sources": versions.source_evidence(),
    }
