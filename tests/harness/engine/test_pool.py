"""The connection pool at thousands of users: keep-alive connections reused above descriptor
1024 (dead ones still replaced), and the target's name looked up once per DNS TTL.

A generator with thousands of users holds thousands of sockets; geventhttpclient's select()
check took every one numbered 1024 or higher for dead and reconnected for each request; and
each new connection resolved the host again through gevent's thread pool.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from geventhttpclient.client import HTTPClient

from harness.engine import _pool

FD_SETSIZE = 1024


@contextmanager
def _high_descriptors() -> Iterator[None]:
    """Holds enough open sockets that the next ones get descriptors above FD_SETSIZE."""
    with ExitStack() as stack:
        while True:
            sock = stack.enter_context(socket.socket())
            if sock.fileno() > FD_SETSIZE + 8:
                break
        yield


def test_an_idle_open_connection_above_1024_is_alive() -> None:
    with _high_descriptors():
        ours, theirs = socket.socketpair()
        with ours, theirs:
            assert ours.fileno() >= FD_SETSIZE
            assert _pool.is_idle_and_open(ours)


def test_a_connection_with_data_waiting_or_closed_by_the_peer_is_not() -> None:
    with _high_descriptors():
        ours, theirs = socket.socketpair()
        with ours:
            theirs.sendall(b"stray bytes")  # a dirty connection: not safe to send on
            assert not _pool.is_idle_and_open(ours)
            ours.recv(64)
            assert _pool.is_idle_and_open(ours)
            theirs.close()  # the server's FIN
            assert not _pool.is_idle_and_open(ours)
        assert not _pool.is_idle_and_open(ours)  # closed here: fileno -1
        assert not _pool.is_idle_and_open(None)


class _Counting(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0

    def get_request(self) -> tuple[socket.socket, object]:
        self.connections += 1
        return super().get_request()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Counting]:
    server = _Counting(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_geventhttpclient_reuses_one_connection_above_1024_once_installed(
    server: _Counting,
) -> None:
    _pool.install()
    port = server.server_address[1]
    with _high_descriptors():
        client = HTTPClient("127.0.0.1", port, concurrency=1)
        try:
            for _ in range(5):
                response = client.get("/")
                assert response.status_code == 200
                assert response.read() == b"ok"
        finally:
            client.close()
    assert server.connections == 1


def test_the_host_is_looked_up_once_per_ttl(
    server: _Counting, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pool.install()
    port = server.server_address[1]
    looked_up: list[str] = []
    original = _pool._look_up

    def counting(pool: object) -> object:
        looked_up.append(getattr(pool, "_connection_host", "?"))
        return original(pool)

    monkeypatch.setattr(_pool, "_look_up", counting)
    monkeypatch.setattr(_pool, "_resolved", {})
    clock = [1000.0]
    monkeypatch.setattr(_pool, "_clock", lambda: clock[0])
    for _ in range(3):  # three clients, three new connections
        client = HTTPClient("localhost", port, concurrency=1)
        try:
            assert client.get("/").status_code == 200
        finally:
            client.close()
    assert looked_up == ["localhost"]
    clock[0] += _pool.DNS_TTL_S  # the answer has aged out: looked up again
    client = HTTPClient("localhost", port, concurrency=1)
    try:
        assert client.get("/").status_code == 200
    finally:
        client.close()
    assert looked_up == ["localhost", "localhost"]


def test_a_failed_look_up_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    _pool.install()
    monkeypatch.setattr(_pool, "_resolved", {})
    client = HTTPClient("perfctl-no-such-host.invalid", 80, concurrency=1)
    try:
        for _ in range(2):
            with pytest.raises(socket.gaierror):
                client.get("/")
    finally:
        client.close()
    assert _pool._resolved == {}
