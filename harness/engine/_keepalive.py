"""A pooled keep-alive connection is reused whatever its descriptor number.

Before it hands out an idle pooled socket, geventhttpclient (2.6) checks that the server has
not closed it: `select.select([sock], [], [], 0)`, readable meaning closed or dirty. select()
cannot watch a descriptor of 1024 or more (FD_SETSIZE); it raises ValueError, which the check
takes for a dead connection. A generator process holding more than about a thousand
connections (a 5,000-user peak run) therefore closed every socket numbered 1024 or higher
after one request and opened a new one for the next: half the requests of such a run paid a
TCP handshake, the target an accept, and the target's listen backlog overflowed with the
churn (SYNs dropped and retried after 1, 3, 7... s; seen as the `slow_connect` diagnosis).
The same limit was fixed in urllib3 (urllib3/urllib3#589) and httpcore (encode/httpcore#182)
by polling instead.

`install` replaces the check, once per process, with the same question asked of poll(),
which has no descriptor limit: an idle socket that polls readable, hung up or in error is
closed by the pool and replaced, as before; any other is reused. The poll is the original
(unpatched) one with a zero timeout, so it never yields to gevent's hub.
"""

from __future__ import annotations

import select
from typing import Any

from gevent import monkey
from geventhttpclient.connectionpool import ConnectionPool

_poll: Any = monkey.get_original("select", "poll")
_NOT_IDLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL
"""Events that mean a pooled socket is not an idle open connection: data or a FIN waiting
(readable), an error, a hang-up, or a descriptor no longer open."""
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


def install() -> None:
    """Makes geventhttpclient's pools check their idle sockets with `is_idle_and_open`."""
    global _installed
    if _installed:
        return

    def _is_socket_alive(self: ConnectionPool, sock: Any) -> bool:
        return is_idle_and_open(sock)

    ConnectionPool._is_socket_alive = _is_socket_alive  # type: ignore[method-assign]
    _installed = True
