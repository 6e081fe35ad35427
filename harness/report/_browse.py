"""`perfctl reports serve`: the reports directory over HTTP on loopback, for browsing."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from pathlib import Path

from harness.errors import UsageError
from harness.report._index_page import write_reports_index
from harness.report._run_entries import INDEX_FILE

LOOPBACK = "127.0.0.1"


def _bind(port: int) -> socket.socket:
    """A listening socket on loopback; a UsageError when the port is taken or not allowed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as error:
        sock.close()
        why = "is already in use" if error.errno == errno.EADDRINUSE else f"({error.strerror})"
        raise UsageError(f"--port {port} {why}: choose another port") from None
    sock.listen(128)
    return sock


def serve_reports(directory: Path, port: int, announce: Callable[[str], None] = print) -> None:
    """Serve `directory` (static files, index.html for folders) until Ctrl-C; `announce`
    receives the URL once the socket listens."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    if not directory.is_dir():
        raise UsageError(f"--dir {directory}: no such directory (perfctl run writes reports/)")
    if not (directory / INDEX_FILE).exists():
        write_reports_index(directory)
    app = Starlette(routes=[Mount("/", app=StaticFiles(directory=directory, html=True))])
    sock = _bind(port)
    actual = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    announce(f"serving {directory} at http://{LOOPBACK}:{actual}/ (Ctrl-C stops)")
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on Ctrl-C, then re-raises it: stopping is the normal end
        pass
    finally:
        sock.close()
    announce("stopped")
