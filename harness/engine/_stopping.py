"""How a stopped user ends: a user killed in its think time never starts another iteration.

Locust stops a user in its think time (state `waiting`) by killing its greenlet, and a user in
an iteration by marking it `stopping`: it stops when the iteration ends, or is killed when the
graceful stop (Locust's stop timeout) runs out. But `Greenlet.kill` only queues the exception
on gevent's hub, which throws it later; when thousands of users stop at once (the plan's end,
a ramp-down) that queue takes a while to drain (0.1-0.2 s for 3,000 users, up to seconds for
5,000 on a saturated generator). A user whose think time ended meanwhile still said `waiting`,
so Locust's `TaskSet.wait` let it start another iteration, and the kill landed in that
iteration's request: recorded `interrupted` in the first seconds of a 30 s graceful stop
(904 requests of a 5,000-user peak run; five error-rate objectives failed on them alone).

`install` makes `User.stop` mark a user `stopping` before it queues the kill. A user that
wakes before the kill arrives then stops at the end of its think time (`TaskSet.wait` checks
the mark there), so the kill lands on a user still thinking, one stopping, or one whose
graceful stop is over (`force`), never on an iteration that began after the user was stopped.
"""

from __future__ import annotations

from collections.abc import Callable

from locust import User
from locust.user.task import LOCUST_STATE_STOPPING, LOCUST_STATE_WAITING

_installed = False


def install() -> None:
    """Makes `User.stop` mark a user `stopping` before it kills it, once per process."""
    global _installed
    if _installed:
        return
    original: Callable[[User, bool], bool] = User.stop

    def stop(self: User, force: bool = False) -> bool:
        if not force and self._state != LOCUST_STATE_WAITING:
            # in an iteration Locust marks it stopping and waits for it; one that has not
            # started yet is killed before it ever runs
            return original(self, force)
        if self._state is not None:
            # the kill arrives later; a user that wakes first stops at the end of its wait
            self._state = LOCUST_STATE_STOPPING
        return original(self, True)

    User.stop = stop  # type: ignore[method-assign]
    _installed = True
