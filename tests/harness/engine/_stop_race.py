"""Run by test_stopping.py in a process of its own (Locust must monkey-patch the process
before anything imports ssl): one user stopped in its think time or in an iteration.

`python _stop_race.py waiting|running force|graceful [unpatched]` prints the user's log as
JSON: "started" and "finished" for each iteration, so an iteration cut off ends with
"started".
"""

from __future__ import annotations

import json
import sys

import gevent
from gevent import monkey
from gevent.pool import Group
from locust import User, constant, task
from locust.env import Environment
from locust.user.task import LOCUST_STATE_WAITING

from harness.engine import _stopping

THINK_S = 0.05
ITERATION_S = 0.2
_block = monkey.get_original("time", "sleep")
"""A sleep that holds the whole process, gevent's hub included."""


class Thinker(User):
    """Iterations of ITERATION_S (a request) with THINK_S of think time between them."""

    wait_time = constant(THINK_S)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.log: list[str] = []

    @task
    def iterate(self) -> None:
        self.log.append("started")
        gevent.sleep(ITERATION_S)
        self.log.append("finished")


def main(state: str, force: bool) -> list[str]:
    group = Group()
    user = Thinker(Environment(user_classes=[Thinker]))
    user.start(group)
    with gevent.Timeout(5):
        if state == "waiting":  # in the think time after its first iteration
            while user._state != LOCUST_STATE_WAITING:
                gevent.sleep(0.001)
        else:  # in its second iteration
            while len(user.log) < 3:
                gevent.sleep(0.001)
    # stopped the way Locust's stop_users does it, from a timer
    gevent.spawn_later(0, user.stop, force=force)
    if state == "waiting":
        # the stop's timer and the end of the think time fall due in the same turn of the
        # event loop (as when thousands of users stop at once): the stop runs first, the
        # kill it queues only after the user has woken up
        _block(THINK_S * 2)
    group.join(timeout=ITERATION_S * 3)
    return user.log


if __name__ == "__main__":
    if "unpatched" not in sys.argv[3:]:
        _stopping.install()
    print(json.dumps(main(sys.argv[1], force=sys.argv[2] == "force")))
