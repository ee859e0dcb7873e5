"""Agent packages: a directory with a ``gymarena-agent.toml`` manifest, sent as a tar.gz.

    name = "my-agent"
    version = "1.2"
    entry_point = "agent.py:make_agent"     # a file of the package : a factory or class
    checkpoints = ["runs/seed0.zip", "runs/seed1.zip", "runs/seed2.zip"]   # optional

With ``checkpoints``, the package is an algorithm (its name and version) with several
independently trained checkpoints: the worker evaluates each as one run, calling the
factory with ``checkpoint=`` the file's path, and the leaderboard ranks the runs as one
entry over its training runs. The agent may import only packages installed on the server. Archives are read with
care: regular files and directories only, relative paths that stay inside, bounded
size and file count.
"""

from __future__ import annotations

import io
import re
import tarfile
import zlib
from pathlib import Path, PurePosixPath

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gymarena.errors import GymarenaError, unstorable
from gymarena.leaderboard.uploads import validation_summary

MANIFEST = "gymarena-agent.toml"
MAX_CHECKPOINTS = 20
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
MAX_FILES = 10_000


class PackageError(GymarenaError):
    """An agent package that cannot be accepted, and why."""


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, pattern=r"^[\w.@+-][\w .@+-]*$")
    version: str = Field(default="unversioned", min_length=1, max_length=100)
    entry_point: str = Field(pattern=r"^[\w./-]+\.py:[A-Za-z_]\w*$", max_length=300)
    checkpoints: list[str] = Field(default_factory=list, max_length=MAX_CHECKPOINTS)

    @field_validator("checkpoints")
    @classmethod
    def _checkpoint_files(cls, value: list[str]) -> list[str]:
        for path in value:
            parts = path.split("/")
            if not re.fullmatch(r"[\w.-][\w./-]{0,299}", path) or any(part in ("", ".", "..") for part in parts):
                raise ValueError(f"a checkpoint is a file inside the package named by its plain relative path, "
                                 f"e.g. runs/seed0.zip, not {path[:100]!r}")
        if len(set(value)) != len(value):
            raise ValueError("a checkpoint is listed twice")
        return value

    @field_validator("entry_point")
    @classmethod
    def _inside_the_package(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split(":")[0].split("/"):
            raise ValueError("the entry point must be a file inside the package, e.g. agent.py:make_agent")
        return value

    @model_validator(mode="after")
    def _storable_and_apart(self) -> Manifest:
        if problem := unstorable(self.model_dump()):
            raise ValueError(problem)
        if self.entry_point.partition(":")[0] in self.checkpoints:
            raise ValueError("the entry point's file cannot also be a checkpoint (checkpoints are weights, apart from code)")
        return self


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


MAX_MANIFEST_BYTES = 64 * 1024
# What the tar stream inside the compression may hold: the files, plus a 512-byte header
# and up to 511 bytes of padding per member, and the end-of-archive blocks.
_MAX_STREAM_BYTES = MAX_UNPACKED_BYTES + 1024 * (MAX_FILES + 2) + 20 * 512


class _Bounded(io.RawIOBase):
    """A readable stream that fails once more than ``limit`` bytes were read from it: the
    decompressed side of an archive, so a compression bomb costs at most the limit."""

    def __init__(self, stream, limit: int):
        self.stream, self.left = stream, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(min(len(buffer), self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise PackageError(f"the package unpacks to more than {MAX_UNPACKED_BYTES:,} bytes")
        buffer[: len(data)] = data
        return len(data)


def _decompressed(data: bytes) -> io.BufferedReader:
    """The tar stream of an upload: gzip, bzip2, xz or none, read through a size bound."""
    import bz2
    import gzip
    import lzma

    raw = io.BytesIO(data)
    stream: io.IOBase
    if data[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=raw)
    elif data[:3] == b"BZh":
        stream = bz2.BZ2File(raw)
    elif data[:6] == b"\xfd7zXZ\x00":
        stream = lzma.LZMAFile(raw)  # noqa: SIM115  closed with the tar stream reading it
    else:
        stream = raw
    return io.BufferedReader(_Bounded(stream, _MAX_STREAM_BYTES), 1 << 16)


def _checked(members):
    """The archive's members, each checked as it streams past: at most MAX_FILES of them,
    MAX_UNPACKED_BYTES in all, regular files and directories inside the package only.
    The first breach stops the reading."""
    total = 0
    for count, member in enumerate(members, start=1):
        if count > MAX_FILES:
            raise PackageError(f"the package has more than {MAX_FILES} files, the limit")
        parts = Path(member.name).parts
        if member.name.startswith("/") or ".." in parts or not parts:
            raise PackageError(f"the package holds a path outside itself: {member.name!r}")
        if not (member.isfile() or member.isdir()):
            raise PackageError(f"the package holds {member.name!r}, which is not a regular file or directory")
        total += member.size
        if total > MAX_UNPACKED_BYTES:
            raise PackageError(f"the package unpacks to more than {MAX_UNPACKED_BYTES:,} bytes")
        yield member


def _reading(data: bytes):
    """The archive opened as a stream (members read once, in order), or PackageError."""
    try:
        return tarfile.open(fileobj=_decompressed(data), mode="r|")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise PackageError(f"the upload is not a tar archive: {exc}") from None


def inspect_archive(data: bytes) -> Manifest:
    """Check an uploaded archive without unpacking it to disk, streaming its members and
    stopping at the first breach of a limit; its manifest."""
    files: set[str] = set()
    manifest_data: bytes | None = None
    try:
        with _reading(data) as archive:
            for member in _checked(archive):
                name = str(PurePosixPath(member.name.removeprefix("./")))
                if member.isfile():
                    files.add(name)
                if name == MANIFEST:
                    if not member.isfile() or member.size > MAX_MANIFEST_BYTES:
                        raise PackageError(f"the package's {MANIFEST} is not a regular file of at most "
                                           f"{MAX_MANIFEST_BYTES:,} bytes")
                    extracted = archive.extractfile(member)
                    manifest_data = extracted.read() if extracted is not None else b""
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise PackageError(f"the upload is not a tar archive: {exc}") from None
    if manifest_data is None:
        raise PackageError(f"the package has no {MANIFEST} at its top level")
    manifest = read_manifest(manifest_data)
    if manifest.entry_point.partition(":")[0] not in files:
        raise PackageError(f"the entry point's file {manifest.entry_point.partition(':')[0]!r} is not in the package")
    absent = [path for path in manifest.checkpoints if path not in files]
    if absent:
        raise PackageError(f"the checkpoint {absent[0]!r} that the manifest lists is not a file in the package")
    return manifest


def unpack(data: bytes, destination: Path) -> Manifest:
    """Unpack a checked archive into ``destination``, readable by the sandbox's user."""
    manifest = inspect_archive(data)
    destination.mkdir(parents=True, exist_ok=True)
    with _reading(data) as archive:
        archive.extractall(destination, members=_checked(archive), filter="data")
    destination.chmod(0o755)
    for path in destination.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return manifest


def package_digests(directory: Path, manifest: Manifest) -> tuple[str, dict[str, str]]:
    """(the digest of the package's code: every file but its checkpoints, each checkpoint's
    digest): an algorithm's identity is its code, each run's agent its code and weights."""
    import hashlib

    code = hashlib.sha256()
    checkpoints = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = str(path.relative_to(directory))
        content = hashlib.sha256(path.read_bytes()).hexdigest()
        if relative in manifest.checkpoints:
            checkpoints[relative] = content
        else:
            code.update(f"{relative}\0{content}\0".encode())
    return code.hexdigest(), checkpoints
