"""A local git smart-HTTP server (``git http-backend`` behind http.server), for tests of https remotes.

It serves every bare repository under ``root`` at ``http://127.0.0.1:PORT/<path>.git``, speaking the same
protocol GitHub and GitLab do for clones, fetches and pushes. Pushes need a user: ``git_http_server``
takes an ``authorize(headers) -> user or None``; without one, pushes are refused with 401 (reads are open).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from portal.testing.httpserver import serve_http

Authorize = Callable[[object], str | None]


def is_push(path: str, query: str) -> bool:
    return path.endswith("/git-receive-pack") or "service=git-receive-pack" in query


def serve_git(handler: BaseHTTPRequestHandler, root: Path, path: str, body: bytes, user: str | None) -> None:
    """Answer one smart-HTTP request for ``path`` (under ``root``) through ``git http-backend``.

    A push without ``user`` gets 401 with a Basic challenge, as forges answer (git then fails, since it
    never prompts)."""
    query = urlsplit(handler.path).query
    if is_push(path, query) and not user:
        handler.send_response(401)
        handler.send_header("WWW-Authenticate", 'Basic realm="git"')
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        return
    env = {
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "REQUEST_METHOD": handler.command,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
        "REMOTE_ADDR": "127.0.0.1",
        "PATH": "/usr/bin:/bin",
        **({"REMOTE_USER": user} if user else {}),  # http-backend allows receive-pack for a known user
    }
    result = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
    head, _, payload = result.stdout.partition(b"\r\n\r\n")
    status = 200
    headers = []
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers.append((name, value.strip()))
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


def _handler(root: Path, authorize: Authorize | None = None) -> type[BaseHTTPRequestHandler]:
    class GitHandler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            self._serve(read_body(self))

        def _serve(self, body: bytes) -> None:
            user = authorize(self.headers) if authorize else None
            serve_git(self, root, urlsplit(self.path).path, body, user)

    return GitHandler


@contextmanager
def git_http_server(root: Path, authorize: Authorize | None = None) -> Iterator[str]:
    """Serve ``root`` over git smart HTTP on a free port; yields the base URL."""
    with serve_http(_handler(Path(root), authorize)) as url:
        yield url
