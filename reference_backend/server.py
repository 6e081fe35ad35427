"""`perfctl serve`: prepare the database once, then run uvicorn workers on one port.

The order matters. The listening socket is bound first (a port in use fails in
milliseconds), the database is created and seeded once in this process (before any worker
starts), and with several workers `PROMETHEUS_MULTIPROC_DIR` (a fresh directory) is set
before anything imports prometheus_client, so every worker writes its samples where
`/metrics` merges them; one worker keeps the faster in-memory metrics. Workers build the app
with `reference_backend.app:create_app_from_env`, reading the settings from
`PERFCTL_BACKEND_SETTINGS` (JSON of `Settings`), and share the fault-injection file named
by `PERFCTL_FAULTS_FILE`.

This module runs the app and never imports it (`reference_backend.app` builds it; uvicorn
imports `APP_FACTORY` by name in each worker). It raises the `ServeError`s of
`reference_backend.errors`, which `perfctl serve` prints as one line with exit 3.

This module imports nothing heavy at load time: `perfctl --help` stays instant, and
prometheus_client is imported only after the environment is set.
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from reference_backend.errors import (
    DatabasePrepareError,
    ListenError,
    SettingsError,
    StartupError,
)
from reference_backend.settings import SETTINGS_ENV, Settings, settings_to_json

APP_FACTORY = "reference_backend.app:create_app_from_env"
_MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"  # the name prometheus_client reads
_FAULTS_FILE_ENV = "PERFCTL_FAULTS_FILE"  # the name reference_backend.faults reads
_BACKLOG = 65535
"""Connections waiting to be accepted; the kernel caps it at net.core.somaxconn. A SYN the
full queue drops is sent again by the client after 1, 3, 7, 15, 31 s: a peak run's users
connect in bursts, and a connection that waits 31 s is worse than one accepted late."""
_KEEP_ALIVE_S = 65
"""How long an idle keep-alive connection stays open (uvicorn's default is 5 s). The seed's
users think for up to 5 s between requests, longer when their generator lags: at 5 s their
connections would close between requests and reopen with a handshake and an accept on both
sides. 65 s outlasts any think time and sits above the 60 s idle timeout of common load
balancers, so that they, not the backend, close an idle connection first."""
_READY_TIMEOUT_S = 120.0
_GRACEFUL_SHUTDOWN_S = 10


def serve_backend(settings: Settings) -> None:
    """Serve the reference backend until Ctrl-C or SIGTERM; raise a ServeError if it cannot."""
    _check_urls(settings)
    listener = bind_listener(settings.host, settings.port)
    settings = dataclasses.replace(settings, port=listener.getsockname()[1])
    workdir = tempfile.mkdtemp(prefix="perfctl-serve-")
    try:
        with _environment(_worker_environment(settings, workdir)):
            settings = _prepare_database(settings)
            os.environ[SETTINGS_ENV] = settings_to_json(settings)
            _run_uvicorn(settings, listener)
    finally:
        listener.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _check_urls(settings: Settings) -> None:
    if settings.database_url is not None and not settings.database_url.startswith(
        ("postgresql://", "postgres://")
    ):
        raise SettingsError(
            f"--database-url must be a postgresql:// URL, got {settings.database_url!r}"
        )
    if settings.redis_url is not None:
        from redis.connection import parse_url

        try:
            parse_url(settings.redis_url)  # type: ignore[no-untyped-call]
        except ValueError as error:
            raise SettingsError(
                f"--redis-url {settings.redis_url!r} is not valid: {error}"
            ) from None


def bind_listener(host: str, port: int) -> socket.socket:
    """Bind the listening socket that every worker inherits."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise ListenError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(_BACKLOG)
    except OSError as error:
        listener.close()
        raise ListenError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    listener.set_inheritable(True)
    return listener


def _worker_environment(settings: Settings, workdir: str) -> dict[str, str | None]:
    environment: dict[str, str | None] = {_MULTIPROC_DIR_ENV: None, _FAULTS_FILE_ENV: None}
    if settings.workers > 1:
        metrics_dir = os.path.join(workdir, "metrics")
        os.mkdir(metrics_dir)
        environment[_MULTIPROC_DIR_ENV] = metrics_dir
    if settings.admin_token is not None:
        environment[_FAULTS_FILE_ENV] = os.path.join(workdir, "faults.json")
    return environment


@contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or unset, for None) environment variables, restoring them afterwards."""
    names = [*values, SETTINGS_ENV]
    saved = {name: os.environ.get(name) for name in names}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _prepare_database(settings: Settings) -> Settings:
    from reference_backend.db import prepare_database

    try:
        return prepare_database(settings)
    except Exception as error:  # any driver's failure becomes one line for the CLI
        message = " ".join(str(error).split()) or type(error).__name__
        raise DatabasePrepareError(f"cannot prepare the database: {message}") from None


def _run_uvicorn(settings: Settings, listener: socket.socket) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from reference_backend.http_protocol import HttpProtocol

    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        http=HttpProtocol,
        lifespan="on",
        **uvicorn_options(),
    )
    announcer = _ReadyAnnouncer(settings)
    stopped_by_signal: list[int] = []

    def note_signal(signum: int, frame: FrameType | None) -> None:
        stopped_by_signal.append(signum)

    previous = {sig: signal.signal(sig, note_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    announcer.start()
    try:
        if settings.workers == 1:
            server = uvicorn.Server(config)
            # uvicorn re-raises the signal that stopped it; `note_signal` absorbs it.
            server.run(sockets=[listener])
            failed = not server.started
        else:
            supervisor = Multiprocess(config, sockets=[listener])

            def queue_signal(signum: int, frame: FrameType | None) -> None:
                stopped_by_signal.append(signum)
                supervisor.signal_queue.append(signum)

            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, queue_signal)
            supervisor.run()
            failed = not announcer.ready.is_set()
    finally:
        announcer.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed and not stopped_by_signal:
        raise StartupError("the backend failed to start; see the log above")


def uvicorn_options() -> dict[str, Any]:
    """The server settings of every backend worker besides its app, address and protocol
    (benchmarks/peak_bench.py serves its floor app with the same)."""
    return {
        "loop": "uvloop",
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": _GRACEFUL_SHUTDOWN_S,
        "timeout_keep_alive": _KEEP_ALIVE_S,
        # nothing proxies the backend: X-Forwarded-For is not trusted (and its middleware,
        # on by default, is a layer every request goes through)
        "proxy_headers": False,
    }


class _ReadyAnnouncer(threading.Thread):
    """Prints one line with the URL once `/health` answers (`ready` tells whether it did)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="ready-announcer", daemon=True)
        self.settings = settings
        self.ready = threading.Event()
        self._halt = threading.Event()

    def run(self) -> None:
        host = self.settings.host
        probe_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while not self._halt.is_set() and time.monotonic() < deadline:
            connection = http.client.HTTPConnection(probe_host, self.settings.port, timeout=1.0)
            try:
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    self.ready.set()
                    print(f"perfctl backend ready at {_describe(self.settings)}", flush=True)
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                connection.close()
            self._halt.wait(0.05)

    def stop(self) -> None:
        self._halt.set()


def _describe(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    workers = f"{settings.workers} worker{'s' if settings.workers > 1 else ''}"
    database = "PostgreSQL" if settings.database_url else "SQLite"
    cache = "Redis + in-process cache" if settings.redis_url else "in-process cache"
    return f"http://{host}:{settings.port} ({workers}, {database}, {cache})"
