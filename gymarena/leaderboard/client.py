"""The client side of submissions: HTTP calls to a leaderboard server (standard library only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from gymarena.errors import GymarenaError

TIMEOUT = 600  # seconds: a large upload is checked before the server answers


def request(method: str, url: str, token: str | None, body: bytes | None = None,
            content_type: str = "application/json") -> dict[str, Any]:
    """Send one request and return the JSON answer; a refusal raises with the server's reason."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {token}"
    call = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(call, timeout=TIMEOUT) as answer:
            return json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise GymarenaError(f"{url} refused the request ({exc.code}): {_detail(exc)}") from None
    except urllib.error.URLError as exc:
        raise GymarenaError(f"cannot reach {url}: {exc.reason}") from None


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read())
    except (ValueError, OSError):
        return exc.reason
    detail = payload.get("detail", payload)
    return detail if isinstance(detail, str) else json.dumps(detail)


def submit_results(server: str, token: str, payload: dict[str, Any]) -> dict[str, Any]:
    return request("POST", f"{server.rstrip('/')}/api/submissions/results", token, json.dumps(payload).encode())


def submit_agent(server: str, token: str, suite: str, archive: bytes) -> dict[str, Any]:
    """Upload an agent package (tar.gz) as a multipart form: the server queues it."""
    import secrets

    boundary = f"gymarena-{secrets.token_hex(12)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="suite"\r\n\r\n{suite}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; filename="agent.tar.gz"\r\n'
        f"Content-Type: application/gzip\r\n\r\n".encode(),
        archive,
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return request("POST", f"{server.rstrip('/')}/api/submissions/agent", token, b"".join(parts),
                   content_type=f"multipart/form-data; boundary={boundary}")


def submission_status(server: str, submission: int) -> dict[str, Any]:
    return request("GET", f"{server.rstrip('/')}/api/submissions/{submission}", None)


def submit_agent_package(server: str, token: str, suite: str, package: Path) -> tuple[dict[str, Any], Any]:
    """Pack (a directory) or read (a .tar.gz) an agent package, check its manifest, upload
    it; (the server's answer, the manifest)."""
    from gymarena.leaderboard.packages import inspect_archive, pack_directory

    package = Path(package)
    if package.is_dir():
        archive = pack_directory(package)
    else:
        try:
            archive = package.read_bytes()
        except OSError as exc:
            raise GymarenaError(f"cannot read the agent package {str(package)!r}: {exc.strerror or exc}; "
                                "give its directory (with gymarena-agent.toml) or a .tar.gz of it") from None
    manifest = inspect_archive(archive)
    return submit_agent(server, token, suite, archive), manifest

