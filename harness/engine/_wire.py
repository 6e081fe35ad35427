"""Whether a request cut off by the end of the graceful stop had reached the wire.

A journey stopped in the middle of a request records it as `interrupted`, but only if the
request had been sent: one stopped while it waited for a free connection or for its TCP
connect never left this process, the target never saw it, and counting it would make
perfctl report more requests than the target received. Locust's FastHttpSession sends
through geventhttpclient, whose connection pool hands a connected socket to the request
just before the request is written to it (a small write that does not yield, so no stop can
land between the two). `install` wraps that hand-over to note which greenlet holds a
connected socket; `Wire.sent` tells a request's greenlet whether it got that far.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent
from geventhttpclient.connectionpool import ConnectionPool

_connected: set[Any] = set()
"""Greenlets whose current request has been handed a connected socket."""
_installed = False


def install() -> None:
    """Wraps geventhttpclient's socket hand-over, once per process."""
    global _installed
    if _installed:
        return
    original: Callable[[ConnectionPool], Any] = ConnectionPool.get_socket

    def get_socket(self: ConnectionPool) -> Any:
        sock = original(self)
        _connected.add(gevent.getcurrent())
        return sock

    ConnectionPool.get_socket = get_socket  # type: ignore[method-assign]
    _installed = True


class Wire:
    """Tracks one request of the current greenlet, from just before it is sent."""

    __slots__ = ("_greenlet",)

    def __init__(self) -> None:
        self._greenlet = gevent.getcurrent()
        _connected.discard(self._greenlet)

    @property
    def sent(self) -> bool:
        """True once the request was handed a connected socket (so it was written)."""
        return not _installed or self._greenlet in _connected

    def close(self) -> None:
        """Forgets the request (it returned, failed or was recorded as interrupted)."""
        _connected.discard(self._greenlet)
