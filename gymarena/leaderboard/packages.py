"""Agent packages: a directory with a ``gymarena-agent.toml`` manifest, sent as a tar.gz.

    name = "my-agent"
    version = "1.2"
    entry_point = "agent.py:make_agent"     # a file of the package : a factory or class

The agent may import only packages installed on the server. Archives are read with
care: regular files and directories only, relative paths that stay inside, bounded
size and file count.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gymarena.errors import GymarenaError
from gymarena.leaderboard.uploads import validation_summary

MANIFEST = "gymarena-agent.toml"
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_FILES = 10_000


class PackageError(GymarenaError):
    """An agent package that cannot be accepted, and why."""


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, pattern=r"^[\w.@+-][\w .@+-]*$")
    version: str = Field(default="unversioned", min_length=1, max_length=100)
    entry_point: str = Field(pattern=r"^[\w./-]+\.py:[A-Za-z_]\w*$", max_length=300)

    @field_validator("entry_point")
    @classmethod
    def _inside_the_package(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split(":")[0].split("/"):
            raise ValueError("the entry point must be a file inside the package, e.g. agent.py:make_agent")
        return value


def pack_directory(directory: Path) -> bytes:
    """The package directory as a tar.gz (its manifest checked first)."""
    directory = Path(directory)
    if not (directory / MANIFEST).is_file():
        raise PackageError(f"{directory} has no {MANIFEST} (name, version, entry_point = \"agent.py:make_agent\")")
    read_manifest((directory / MANIFEST).read_bytes(), directory)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(directory.rglob("*")):
            if "__pycache__" in path.parts or path.is_symlink():
                continue
            archive.add(path, arcname=str(path.relative_to(directory)), recursive=False)
    return buffer.getvalue()


def read_manifest(data: bytes, origin: object = "the package") -> Manifest:
    try:
        return Manifest.model_validate(tomllib.loads(data.decode()))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PackageError(f"{MANIFEST} of {origin} is not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise PackageError(f"{MANIFEST} of {origin}: {validation_summary(exc, 'manifest')}") from None


def _members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members, total = archive.getmembers(), 0
    if len(members) > MAX_FILES:
        raise PackageError(f"the package has {len(members)} files, over the limit of {MAX_FILES}")
    for member in members:
        parts = Path(member.name).parts
        if member.name.startswith("/") or ".." in parts or not parts:
            raise PackageError(f"the package holds a path outside itself: {member.name!r}")
        if not (member.isfile() or member.isdir()):
            raise PackageError(f"the package holds {member.name!r}, which is not a regular file or directory")
        total += member.size
        if total > MAX_UNPACKED_BYTES:
            raise PackageError(f"the package unpacks to more than {MAX_UNPACKED_BYTES:,} bytes")
    return members


def inspect_archive(data: bytes) -> Manifest:
    """Check an uploaded archive without unpacking it to disk; its manifest."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            members = {m.name.removeprefix("./"): m for m in _members(archive)}
            if MANIFEST not in members:
                raise PackageError(f"the package has no {MANIFEST} at its top level")
            manifest_file = archive.extractfile(members[MANIFEST])
            if manifest_file is None:
                raise PackageError(f"the package's {MANIFEST} is not a regular file")
            manifest = read_manifest(manifest_file.read())
            if manifest.entry_point.partition(":")[0] not in members:
                raise PackageError(f"the entry point's file {manifest.entry_point.partition(':')[0]!r} is not in the package")
            return manifest
    except tarfile.TarError as exc:
        raise PackageError(f"the upload is not a tar archive: {exc}") from None


def unpack(data: bytes, destination: Path) -> Manifest:
    """Unpack a checked archive into ``destination``, readable by the sandbox's user."""
    manifest = inspect_archive(data)
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        archive.extractall(destination, members=_members(archive), filter="data")
    destination.chmod(0o755)
    for path in destination.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return manifest
