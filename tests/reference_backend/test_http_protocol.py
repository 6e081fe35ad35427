"""The backend's HTTP protocol: each response leaves in one write, and HTTP still works.

Against a real uvicorn server (uvloop, the backend's protocol) in a thread: responses of
every shape a client relies on (a body, no body, HEAD, a streamed body, 100-continue,
pipelined requests on one connection, Connection: close) arrive whole and in order. The
head/body coalescing itself is checked on `HeadFirstTransport` with a recording transport.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from reference_backend.http_protocol import HeadFirstTransport, HttpProtocol

# --- the transport, on its own -----------------------------------------------------------


@dataclass
class _Cycle:
    response_started: bool = False
    response_complete: bool = False


@dataclass
class _Recording:
    writes: list[bytes] = field(default_factory=list)
    closed: bool = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_the_head_leaves_with_the_first_body_write() -> None:
    recording, cycle = _Recording(), _Cycle()
    transport = HeadFirstTransport(recording, cycle)  # type: ignore[arg-type]
    cycle.response_started = True
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert recording.writes == []
    transport.write(b"ok")
    assert recording.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    transport.write(b"more")  # a streamed body's later chunks pass straight through
    transport.flush()
    assert recording.writes[1:] == [b"more"]


def test_a_continue_before_the_response_is_not_held() -> None:
    recording, cycle = _Recording(), _Cycle()
    transport = HeadFirstTransport(recording, cycle)  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert recording.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]


def test_a_head_without_a_body_is_sent_by_flush_or_close() -> None:
    recording, cycle = _Recording(), _Cycle(response_started=True)
    transport = HeadFirstTransport(recording, cycle)  # type: ignore[arg-type]
    transport.write(b"HEAD-ONLY")
    transport.flush()
    transport.flush()
    assert recording.writes == [b"HEAD-ONLY"]

    recording, cycle = _Recording(), _Cycle(response_started=True)
    transport = HeadFirstTransport(recording, cycle)  # type: ignore[arg-type]
    transport.write(b"HEAD-ONLY")
    transport.close()
    assert recording.writes == [b"HEAD-ONLY"]
    assert recording.closed
    assert transport.is_closing()  # anything else is the real transport's


# --- a real server -----------------------------------------------------------------------


async def _plain(request: Request) -> Response:
    return Response(b"x" * int(request.path_params["size"]), media_type="text/plain")


async def _empty(request: Request) -> Response:
    return Response(status_code=204)


async def _echo(request: Request) -> Response:
    return Response(await request.body(), media_type="application/octet-stream")


async def _stream(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for n in range(3):
            yield b"chunk-%d;" % n

    return StreamingResponse(chunks(), media_type="text/plain")


_APP = Starlette(
    routes=[
        Route("/plain/{size:int}", _plain, methods=["GET", "HEAD"]),
        Route("/empty", _empty),
        Route("/echo", _echo, methods=["POST"]),
        Route("/stream", _stream),
    ]
)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        _APP, loop="uvloop", http=HttpProtocol, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield listener.getsockname()[1]
    server.should_exit = True
    thread.join(10)


def _get(port: int, method: str, path: str, **kwargs: Any) -> tuple[int, bytes, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, **kwargs)
        response = connection.getresponse()
        return response.status, response.read(), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


@pytest.mark.parametrize("size", [0, 17, 70_000])
def test_bodies_of_any_size_arrive_whole(port: int, size: int) -> None:
    status, body, headers = _get(port, "GET", f"/plain/{size}")
    assert (status, body, headers["content-length"]) == (200, b"x" * size, str(size))


def test_a_response_without_a_body_and_a_head_request_get_their_head(port: int) -> None:
    assert _get(port, "GET", "/empty")[:2] == (204, b"")
    status, body, headers = _get(port, "HEAD", "/plain/5")
    assert (status, body, headers["content-length"]) == (200, b"", "5")


def test_a_streamed_body_arrives_in_order(port: int) -> None:
    status, body, headers = _get(port, "GET", "/stream")
    assert (status, body) == (200, b"chunk-0;chunk-1;chunk-2;")
    assert headers["transfer-encoding"] == "chunked"


def test_expect_100_continue_gets_its_interim_answer_then_the_response(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"hello")
        received = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n") :]
        while not received.endswith(b"hello"):
            chunk = sock.recv(1024)
            assert chunk, received
            received += chunk
    assert received.startswith(b"HTTP/1.1 200 OK\r\n")


def test_pipelined_requests_are_answered_in_order_on_one_connection(port: int) -> None:
    requests = (
        b"".join(b"GET /plain/%d HTTP/1.1\r\nHost: t\r\n\r\n" % size for size in (3, 1, 2))
        + b"GET /plain/4 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(requests)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk  # the server closes after the last (Connection: close)
    bodies = [part.split(b"\r\n\r\n", 1)[1] for part in received.split(b"HTTP/1.1 ")[1:]]
    assert bodies == [b"xxx", b"x", b"xx", b"xxxx"]
