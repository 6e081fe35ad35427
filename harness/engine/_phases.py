"""The connection phases of a request: how long its new connection took to open, and its time
to first byte.

The latency histogram alone cannot tell a request that waited 31 s for its TCP connect (a SYN
the target's full listen backlog dropped, retransmitted by the client's kernel after 1, 3, 7,
15 and 31 s) from one whose handler took 31 s. Locust's FastHttpSession sends through
geventhttpclient, in three calls `install` wraps once per process:

- `UserAgent.urlopen` runs one Locust request, its redirects and retries included: it starts
  the request's phases afresh;
- `HTTPClient.request` sends one HTTP request on a socket from the connection pool and returns
  once the response head is parsed: its first entry and last return bound the time to first
  byte (curl's time_starttransfer: the wait for a pooled socket and the connect included);
- `ConnectionPool._create_socket` opens a new connection when the pool holds no idle
  keep-alive socket (the TCP connect, and the TLS handshake for https): the time of each one
  that succeeds adds to the connect time. A request served on a pooled socket has none.

Phases are kept per greenlet (in a `WeakKeyDictionary`, so a greenlet killed mid-request
leaves nothing behind) and handed over by `take` when Locust's `request` event fires, which
it does in the greenlet that made the request. Each request costs two clock reads and a few
dictionary operations.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

import gevent
from geventhttpclient.client import HTTPClient
from geventhttpclient.connectionpool import ConnectionPool
from geventhttpclient.useragent import UserAgent


class _Phases:
    """What the wrapped calls noted about the current request of one greenlet."""

    __slots__ = ("answered", "connect_s", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        """perf_counter at the first `HTTPClient.request` entry."""
        self.answered: float | None = None
        """perf_counter at the last `HTTPClient.request` return (a response head parsed)."""
        self.connect_s: float | None = None
        """Seconds spent opening new connections, None when it opened none."""


_current: weakref.WeakKeyDictionary[Any, _Phases] = weakref.WeakKeyDictionary()
"""The phases of each greenlet's request in flight (or finished and not yet taken)."""
_installed = False
_NONE: tuple[float | None, float | None] = (None, None)


def install() -> None:
    """Wraps geventhttpclient's request, connect and user-agent entry, once per process."""
    global _installed
    if _installed:
        return
    original_urlopen: Callable[..., Any] = UserAgent.urlopen
    original_request: Callable[..., Any] = HTTPClient.request
    original_create: Callable[[ConnectionPool], Any] = ConnectionPool._create_socket
    perf_counter = time.perf_counter
    getcurrent = gevent.getcurrent

    def urlopen(self: UserAgent, *args: Any, **kwargs: Any) -> Any:
        # phases of an earlier request whose event never fired (a catch_response used
        # without its with-block) must not leak into this one
        _current.pop(getcurrent(), None)
        return original_urlopen(self, *args, **kwargs)

    def request(self: HTTPClient, *args: Any, **kwargs: Any) -> Any:
        greenlet = getcurrent()
        phases = _current.get(greenlet)
        if phases is None:
            phases = _current[greenlet] = _Phases(perf_counter())
        response = original_request(self, *args, **kwargs)
        phases.answered = perf_counter()
        return response

    def create_socket(self: ConnectionPool) -> Any:
        began = perf_counter()
        sock = original_create(self)
        phases = _current.get(getcurrent())
        if phases is not None:
            phases.connect_s = (phases.connect_s or 0.0) + (perf_counter() - began)
        return sock

    UserAgent.urlopen = urlopen  # type: ignore[method-assign]
    HTTPClient.request = request  # type: ignore[method-assign]
    ConnectionPool._create_socket = create_socket  # type: ignore[method-assign]
    _installed = True


def take(response_time_ms: float | None) -> tuple[float | None, float | None]:
    """(connect ms, time to first byte ms) of the current greenlet's request, forgotten once
    taken: connect None when the request opened no new connection, time to first byte None
    when no response head came back; both None when the client is not geventhttpclient.

    Phases longer than the request's own response time (which Locust measures around all of
    them) belong to an earlier request of a client that bypassed `urlopen`: dropped.
    """
    phases = _current.pop(gevent.getcurrent(), None)
    if phases is None:
        return _NONE
    connect_ms = phases.connect_s * 1000.0 if phases.connect_s is not None else None
    ttfb_ms = (phases.answered - phases.started) * 1000.0 if phases.answered is not None else None
    if response_time_ms is not None and max(connect_ms or 0.0, ttfb_ms or 0.0) > response_time_ms:
        return _NONE
    return connect_ms, ttfb_ms
