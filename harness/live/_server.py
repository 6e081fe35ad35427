"""The live view's HTTP server: the page, its snapshots (Server-Sent Events), /metrics, the report.

A stdlib `ThreadingHTTPServer` on loopback, in threads of the `perfctl run` process (which
never imports locust or gevent, so plain threads are safe):

    /                the page (live.html; plotly.js from this server, never a CDN)
    /events          Server-Sent Events: a JSON snapshot every second; the first one to a
                     client carries the whole chart history (`full`), later ones the points
                     added since the one before
    /snapshot        the current snapshot as one JSON document (with the whole history)
    /metrics         perfctl's own metrics, Prometheus text format (`_metrics.py`)
    /plotly.min.js   the installed plotly package's plotly.js
    /report/...      the run directory's files: the report (index.html) once it is written
"""

from __future__ import annotations

import errno
import json
import mimetypes
import threading
import time
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from harness.errors import UsageError
from harness.live._state import LiveState

LOOPBACK = "127.0.0.1"
KEEPALIVE_S = 15.0
"""An SSE comment this often keeps a quiet connection open through proxies."""
RETRY_MS = 2000
"""How long a page waits before reconnecting to /events."""


@cache
def _page() -> bytes:
    return resources.files("harness.live").joinpath("live.html").read_bytes()


@cache
def _plotly() -> bytes:
    from plotly.offline import get_plotlyjs

    source: str = get_plotlyjs()
    return source.encode("utf-8")


class SnapshotHub:
    """The latest snapshot, and a condition the SSE handlers wait on for the next one."""

    def __init__(self, state: LiveState) -> None:
        self.state = state
        self.changed = threading.Condition()
        self.version = 0
        self.closed = False
        self.snapshot: dict[str, Any] = {}

    def publish(self) -> None:
        """Take a snapshot of the state and wake every client."""
        with self.state.lock:
            snapshot = self.state.snapshot(time.time())
        with self.changed:
            self.snapshot = snapshot
            self.version += 1
            self.changed.notify_all()

    def close(self) -> None:
        """Tell every client the server is going away."""
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def wait(self, seen: int, timeout_s: float) -> tuple[int, dict[str, Any]]:
        """The next snapshot after version `seen` (the same one after `timeout_s`)."""
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen or self.closed, timeout_s)
            return self.version, self.snapshot

    def with_points(self, snapshot: dict[str, Any], since: int) -> tuple[dict[str, Any], int]:
        """`snapshot` with the history points from number `since` on, and the next number."""
        with self.state.lock:
            points, end = self.state.points_since(since)
        return {**snapshot, "points": points, "full": since == 0}, end


class LiveServer(ThreadingHTTPServer):
    """The HTTP server of one live view; bound at construction (a UsageError when taken)."""

    daemon_threads = True

    def __init__(self, port: int, hub: SnapshotHub, registry: CollectorRegistry) -> None:
        self.hub = hub
        self.registry = registry
        self.run_dir: Path | None = None
        try:
            super().__init__((LOOPBACK, port), _Handler)
        except OSError as error:
            why = "is already in use" if error.errno == errno.EADDRINUSE else f"({error.strerror})"
            raise UsageError(f"--ui {port} {why}: choose another port (--ui PORT)") from None

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: LiveServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal belongs to the run's own live table."""

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path in ("/", "/index.html"):
            self._send(_page(), "text/html; charset=utf-8")
        elif path == "/events":
            self._events()
        elif path == "/snapshot":
            hub = self.server.hub
            snapshot, _ = hub.with_points(hub.snapshot, 0)
            self._send(json.dumps(snapshot).encode(), "application/json")
        elif path == "/metrics":
            self._send(generate_latest(self.server.registry), CONTENT_TYPE_LATEST)
        elif path == "/plotly.min.js":
            self._send(_plotly(), "text/javascript; charset=utf-8", cache_s=3600)
        elif path == "/favicon.ico":
            self._send(b"", "image/x-icon", status=HTTPStatus.NO_CONTENT)
        elif path == "/report" or path.startswith("/report/"):
            self._report(path.removeprefix("/report").lstrip("/") or "index.html")
        else:
            self._send(b"not found\n", "text/plain", status=HTTPStatus.NOT_FOUND)

    def _send(
        self,
        body: bytes,
        content_type: str,
        *,
        status: HTTPStatus = HTTPStatus.OK,
        cache_s: int = 0,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", f"max-age={cache_s}" if cache_s else "no-store")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _report(self, relative: str) -> None:
        """A file of the run directory (the report and what it links to), nothing outside."""
        run_dir = self.server.run_dir
        if run_dir is not None:
            root = run_dir.resolve()
            wanted = (root / relative).resolve()
            if wanted.is_relative_to(root) and wanted.is_file():
                kind = mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
                self._send(wanted.read_bytes(), kind)
                return
        self._send(b"no such file (yet)\n", "text/plain", status=HTTPStatus.NOT_FOUND)

    def _events(self) -> None:
        hub = self.server.hub
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        seen, snapshot = hub.wait(-1, 0)
        changed, next_point = True, 0
        try:
            self.wfile.write(f"retry: {RETRY_MS}\n\n".encode())
            while True:
                if hub.closed:
                    self.wfile.write(b"event: bye\ndata: {}\n\n")
                    self.wfile.flush()
                    return
                if changed and snapshot:
                    message, next_point = hub.with_points(snapshot, next_point)
                    data = json.dumps(message, separators=(",", ":"))
                    self.wfile.write(f"id: {seen}\nevent: snapshot\ndata: {data}\n\n".encode())
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
                version, snapshot = hub.wait(seen, KEEPALIVE_S)
                changed, seen = version != seen, version
        except (BrokenPipeError, ConnectionResetError):
            return  # the page went away
