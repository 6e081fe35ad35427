"""uvicorn's httptools protocol, with each response's head and body sent in one write.

uvicorn writes a response's status line and headers to the transport when the app sends
`http.response.start`, and the body when it sends `http.response.body`: two writes, and
with TCP_NODELAY (uvloop's default) two send() calls and two TCP segments on the wire. The
client is often woken by the head alone and has to wait again for the body. Under a peak
run that doubles the kernel's work per response on both sides of the loopback.

`HttpProtocol` gives each request's cycle a `HeadFirstTransport`: the head is held until
the first body write, which sends both as one buffer. A response that never writes a body
(HEAD, or an app that failed after the head) releases the head when it completes or when
the connection is closed, so nothing is ever lost or reordered. Writes before the head (a
`100 Continue`) pass straight through.

    uvicorn.Config(app, http=HttpProtocol, ...)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


class HeadFirstTransport:
    """One response cycle's view of the connection's transport: the head waits for the body."""

    __slots__ = ("_cycle", "_head", "_head_done", "_transport")

    def __init__(self, transport: Any, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle = cycle
        self._head: bytes | None = None
        self._head_done = False

    def write(self, data: bytes) -> None:
        """Holds the head (the first write once the response started); the next write
        carries it; anything else goes straight to the transport."""
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + data)
        elif not self._head_done and self._cycle.response_started:
            self._head_done = True
            self._head = data
        else:
            self._transport.write(data)

    def flush(self) -> None:
        """Sends a head still held (a response without a body write)."""
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """HttpToolsProtocol whose responses leave in one write (see the module docstring)."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        transport = HeadFirstTransport(cycle.transport, cycle)
        cycle.transport = transport  # type: ignore[assignment]  # duck-typed: writes, closes, delegates the rest
        cycle.on_response = _flushing(transport, cycle.on_response)
        super()._start_asgi_task(cycle, app)


def _flushing(transport: HeadFirstTransport, on_response: Callable[[], None]) -> Callable[[], None]:
    def flush_then_complete() -> None:
        transport.flush()
        on_response()

    return flush_then_complete
