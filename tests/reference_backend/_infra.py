"""Helpers of the infrastructure tests: free ports, a real uvicorn, a TCP proxy, `perfctl serve`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

REPO = Path(__file__).resolve().parents[2]
PERFCTL = str(Path(sys.executable).with_name("perfctl"))


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_uvicorn(app: ASGIApp, *, deadline_s: float = 15.0) -> Iterator[str]:
    """Serve `app` with uvicorn (uvloop, httptools) in a thread; yield its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=free_port(),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + deadline_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("uvicorn did not start in time")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class ServeProcess:
    """`perfctl serve` as a subprocess, waited on until it prints its ready line.

    `program` replaces `perfctl serve`, e.g. by `serve_backend` with settings the CLI has no
    option for; it gets `--port N` and `args` after it all the same.
    """

    def __init__(
        self, *args: str, deadline_s: float = 90.0, program: Sequence[str] = (PERFCTL, "serve")
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # stderr goes to a file: a pipe nobody reads could fill up and block the server
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (lives as long as self)
        self.process = subprocess.Popen(
            [*program, "--port", str(self.port), *args],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.ready_line = self._wait_ready(deadline_s)

    def _wait_ready(self, deadline_s: float) -> str:
        assert self.process.stdout is not None
        found: list[str] = []

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                if "ready at" in line:
                    found.append(line.strip())
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(deadline_s)
        if not found:
            self.stop()
            raise RuntimeError(f"perfctl serve not ready in {deadline_s}s: {self.stderr_text()}")
        return found[0]

    def stop(self, sig: int = signal.SIGINT, timeout_s: float = 30.0) -> int:
        """Send `sig`, wait for the exit, return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def stderr_text(self) -> str:
        """What the server wrote to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TcpProxy:
    """A TCP forwarder to Redis that a test can take down and bring back on the same port."""

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.blackhole = False
        """When True, connections are accepted and then never answered (a hung Redis)."""

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )

    async def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.blackhole:
            self._writers.add(writer)
            await asyncio.Event().wait()  # until stop() aborts the connection
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers.update((writer, up_writer))

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._writers.difference_update((writer, up_writer))
