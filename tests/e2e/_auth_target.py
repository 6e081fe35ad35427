"""A target behind basic auth and a path prefix, counting what it serves (stdlib, in a thread).

`GET {prefix}/items` answers 200 with the right `Authorization: Basic ...`, 401 without it;
any other path answers 404. Every request is counted by (path, authorised) so a test can
tell a request that reached the right place from one that lost its prefix or its credentials.
"""

from __future__ import annotations

import base64
import collections
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class AuthTarget:
    """The running server and what it saw."""

    url: str
    """http://127.0.0.1:PORT (no credentials, no prefix)."""
    seen: collections.Counter[tuple[str, bool]] = field(default_factory=collections.Counter)
    """(path without query, authorised) -> requests."""
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def auth_target(user: str, password: str, prefix: str) -> Iterator[AuthTarget]:
    """Serve on a free loopback port until the block ends."""
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    state = AuthTarget(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            authorised = self.headers.get("Authorization") == expected
            with state.lock:
                state.seen[(path, authorised)] += 1
            if not authorised:
                self._answer(401, b'{"error": "unauthorized"}')
            elif path == f"{prefix}/items":
                self._answer(200, b'{"items": [{"id": 7}]}')
            else:
                self._answer(404, b'{"error": "not found"}')

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
