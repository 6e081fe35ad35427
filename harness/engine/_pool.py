"""geventhttpclient's connection pool made fit for thousands of users in one process.

Two of its habits cost a 5,000-user run dearly; `install` replaces both, once per process.

**A pooled keep-alive connection is reused whatever its descriptor number.** Before it hands
out an idle pooled socket, geventhttpclient (2.6) checks that the server has not closed it:
`select.select([sock], [], [], 0)`, readable meaning closed or dirty. select() cannot watch a
descriptor of 1024 or more (FD_SETSIZE); it raises ValueError, which the check takes for a
dead connection. A generator process holding more than about a thousand connections
therefore closed every socket numbered 1024 or higher after one request and opened a new one
for the next: half the requests of a 5,000-user peak run paid a TCP handshake and the target
an accept. The same limit was fixed in urllib3 (urllib3/urllib3#589) and httpcore
(encode/httpcore#182) by polling instead; `is_idle_and_open` asks poll() the same question
(the original, unpatched poll with a zero timeout, so it never yields to gevent's hub): an idle
socket that polls readable, hung up or in error is closed by the pool and replaced, as before.

**A name is looked up once per `DNS_TTL_S`, not once per connection.** Each new connection
resolved the target's host with gevent's `getaddrinfo`, which runs in gevent's thread pool (ten
threads) and comes back through the hub; with a busy generator those threads wait for the GIL,
and at the end of a 5,000-user ramp the look-ups queued for up to 47 s, counted as connect
time. `resolve` keeps each answer for `DNS_TTL_S` (k6's default DNS TTL is 5 minutes), so a
long run still follows a changed record; a failed look-up is not cached.
"""

from __future__ import annotations

import select
import socket
import time
from typing import Any

from gevent import monkey
from geventhttpclient.connectionpool import ConnectionPool

_poll: Any = monkey.get_original("select", "poll")
_look_up: Any = ConnectionPool._resolve
"""geventhttpclient's own look-up (gevent's getaddrinfo)."""
_NOT_IDLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL
"""Events that mean a pooled socket is not an idle open connection: data or a FIN waiting
(readable), an error, a hang-up, or a descriptor no longer open."""
DNS_TTL_S = 300.0
"""How long a host's addresses are reused before they are looked up again."""
_clock = time.monotonic
_resolved: dict[tuple[str, int, int], tuple[float, list[Any]]] = {}
"""(host, port, family) -> (when looked up, getaddrinfo's answer)."""
_installed = False


def is_idle_and_open(sock: Any) -> bool:
    """True when `sock` is an open connection with nothing to read: safe to send on."""
    if sock is None:
        return False
    try:
        fd = sock.fileno()
        if fd < 0:
            return False
        poller = _poll()
        poller.register(fd, _NOT_IDLE)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def resolve(pool: ConnectionPool) -> list[Any]:
    """`pool`'s target addresses, from the cache while they are younger than `DNS_TTL_S`."""
    family = socket.AF_INET if pool.disable_ipv6 else 0
    key = (pool._connection_host, pool._connection_port, family)
    now = _clock()
    cached = _resolved.get(key)
    if cached is not None and now - cached[0] < DNS_TTL_S:
        return cached[1]
    answer: list[Any] = _look_up(pool)
    _resolved[key] = (now, answer)
    return answer


def install() -> None:
    """Makes geventhttpclient's pools check their idle sockets with `is_idle_and_open` and
    resolve their host through `resolve`."""
    global _installed
    if _installed:
        return

    def _is_socket_alive(self: ConnectionPool, sock: Any) -> bool:
        return is_idle_and_open(sock)

    def _resolve(self: ConnectionPool) -> list[Any]:
        return resolve(self)

    ConnectionPool._is_socket_alive = _is_socket_alive  # type: ignore[method-assign]
    ConnectionPool._resolve = _resolve  # type: ignore[method-assign]
    _installed = True
