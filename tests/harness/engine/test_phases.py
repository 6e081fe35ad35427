"""Connection phases on real sockets: a new connection has a connect time and a reused
keep-alive one none, the time to first byte holds the server's own delay, and a SYN dropped by
a full listen backlog shows as a connect of a second, not as a slow handler."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import create_connection

import gevent
import pytest
from geventhttpclient.useragent import UserAgent

from harness.engine import _phases
from harness.engine._recorder import Drained, Recorder

SYN_RETRY_MS = 1000.0
"""Linux's initial retransmission timeout: a dropped SYN is sent again after one second."""


class _Handler(BaseHTTPRequestHandler):
    """`/slow?ms=N` answers after N ms; `/redirect?ms=N` redirects there after N ms."""

    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        delay_ms = int(query.removeprefix("ms=") or 0)
        time.sleep(delay_ms / 1000.0)  # the handler's own time, which ttfb must include
        body = b"ok"
        if path == "/redirect":
            self.send_response(302)
            self.send_header("Location", f"/slow?ms={delay_ms}")
            body = b""
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def _serving(*, backlog: int = 16, accept_after_s: float = 0.0) -> Iterator[str]:
    """An HTTP server on a free port (its base URL) that starts accepting after
    `accept_after_s`, its listen queue `backlog` deep."""
    server = _Server(("127.0.0.1", 0), _Handler, bind_and_activate=False)
    server.request_queue_size = backlog
    server.server_bind()
    server.server_activate()
    stop, serving = threading.Event(), threading.Event()

    def serve() -> None:
        if stop.wait(accept_after_s):
            return
        serving.set()
        server.serve_forever(poll_interval=0.05)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        if serving.is_set():
            server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class _Fetched:
    response_time_ms: float
    connect_ms: float | None
    ttfb_ms: float | None


def _fetch(agent: UserAgent, url: str) -> _Fetched:
    """One request as Locust's FastHttpSession makes it, then its phases taken."""
    started = time.perf_counter()
    response = agent.urlopen(url)
    assert response.content in (b"ok", b"")
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    connect_ms, ttfb_ms = _phases.take(elapsed_ms)
    return _Fetched(elapsed_ms, connect_ms, ttfb_ms)


@pytest.fixture(autouse=True)
def _installed() -> Iterator[None]:
    _phases.install()
    yield
    _phases._current.clear()


def test_a_new_connection_has_a_connect_time_and_a_reused_one_none() -> None:
    with _serving() as base:
        agent = UserAgent()
        first = _fetch(agent, f"{base}/slow?ms=0")
        second = _fetch(agent, f"{base}/slow?ms=0")
        agent.close()
    assert first.connect_ms is not None
    assert first.ttfb_ms is not None
    assert 0.0 < first.connect_ms < first.ttfb_ms <= first.response_time_ms
    assert second.connect_ms is None  # the keep-alive socket came from the pool
    assert second.ttfb_ms is not None
    assert 0.0 < second.ttfb_ms <= second.response_time_ms


def test_time_to_first_byte_holds_the_handlers_delay_from_the_first_hop_of_a_redirect() -> None:
    with _serving() as base:
        agent = UserAgent()
        slow = _fetch(agent, f"{base}/slow?ms=200")
        redirected = _fetch(agent, f"{base}/redirect?ms=100")
        agent.close()
    assert slow.ttfb_ms is not None
    assert slow.ttfb_ms >= 200.0
    assert slow.connect_ms is not None
    assert slow.connect_ms < 100.0  # a fast connect: the time was the handler's
    assert redirected.ttfb_ms is not None
    assert redirected.ttfb_ms >= 200.0  # both hops: the redirect's 100 ms and the target's


def test_a_syn_dropped_by_a_full_listen_backlog_is_a_connect_of_a_second() -> None:
    # a backlog of 0 queues one connection: the filler takes it, so the next SYN is dropped
    # until the server starts accepting, and the client's kernel sends it again after 1 s
    with _serving(backlog=0, accept_after_s=0.3) as base:
        port = int(base.rsplit(":", 1)[1])
        filler = create_connection(("127.0.0.1", port))
        agent = UserAgent(connection_timeout=10.0)
        fetched = _fetch(agent, f"{base}/slow?ms=0")
        agent.close()
        filler.close()
    assert fetched.connect_ms is not None
    assert fetched.connect_ms >= SYN_RETRY_MS
    assert fetched.ttfb_ms is not None
    assert fetched.ttfb_ms - fetched.connect_ms < SYN_RETRY_MS / 2  # the handler was quick


def test_nothing_is_taken_without_a_request_or_from_an_earlier_one() -> None:
    assert _phases.take(5.0) == (None, None)
    with _serving() as base:
        agent = UserAgent()
        agent.urlopen(f"{base}/slow?ms=50").content  # noqa: B018
        # phases longer than the response time the event reports are not this request's
        assert _phases.take(1.0) == (None, None)
        agent.close()


def test_a_greenlet_killed_mid_request_leaves_no_phases_behind() -> None:
    with _serving() as base:
        agent = UserAgent(network_timeout=10.0)
        greenlet = gevent.spawn(agent.urlopen, f"{base}/slow?ms=1000")
        deadline = time.monotonic() + 5.0
        while greenlet not in _phases._current and time.monotonic() < deadline:
            gevent.sleep(0.01)
        assert greenlet in _phases._current
        greenlet.kill()
        gone = weakref.ref(greenlet)
        del greenlet
        gevent.sleep(0)
        gc.collect()
        assert gone() is None
        assert len(_phases._current) == 0
        agent.close()


def test_the_recorder_stores_the_phases_of_the_request_it_is_told_about() -> None:
    recorder = Recorder()
    with _serving() as base:
        agent = UserAgent()
        for _ in range(3):
            started = time.perf_counter()
            response = agent.urlopen(f"{base}/slow?ms=20")
            recorder.on_request(
                request_type="GET",
                name="search",
                response_time=(time.perf_counter() - started) * 1000.0,
                response_length=len(response.content),
                response=response,
            )
        agent.close()
    # the three requests may straddle a whole second: one window each second, merged here
    window, *later = Drained.from_wire(recorder.drain(final=True).to_wire()).windows
    for other in later:
        window.merge(other)
    assert window.counts["ok"] == 3
    assert window.connect is not None
    assert window.connect.count == 1  # one new connection, then keep-alive
    assert window.ttfb is not None
    assert window.ttfb.count == 3
    ttfb_p0 = window.ttfb.percentile_ms(0)
    assert ttfb_p0 is not None
    assert ttfb_p0 >= 20.0
