"""A local git smart-HTTP server (``git http-backend`` behind http.server), for tests of https remotes.

It serves every bare repository under ``root`` at ``http://127.0.0.1:PORT/<path>.git``, speaking the same
protocol GitHub and GitLab do for clones and fetches.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from portal.testing.httpserver import serve_http


def _handler(root: Path) -> type[BaseHTTPRequestHandler]:
    class GitHandler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            self._cgi(b"")

        def do_POST(self) -> None:
            self._cgi(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _cgi(self, body: bytes) -> None:
            parts = urlsplit(self.path)
            env = {
                "GIT_PROJECT_ROOT": str(root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": parts.path,
                "QUERY_STRING": parts.query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "REMOTE_ADDR": "127.0.0.1",
                "PATH": "/usr/bin:/bin",
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
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return GitHandler


@contextmanager
def git_http_server(root: Path) -> Iterator[str]:
    """Serve ``root`` over git smart HTTP on a free port; yields the base URL."""
    with serve_http(_handler(Path(root))) as url:
        yield url
