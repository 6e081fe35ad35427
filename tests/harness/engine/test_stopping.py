"""A user stopped in its think time stops at once and starts no other iteration; a user
stopped in an iteration finishes it.

gevent throws a kill into a greenlet later, from the hub's callback queue. When a user's think
time ends in the same turn of the event loop as its stop (as when thousands of users stop at
the plan's end), it woke first, still `waiting`, started an iteration, and the kill cut that
iteration's request off. Each case runs in a process of its own (_stop_race.py): Locust must
monkey-patch a process before anything in it imports ssl.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RACE = Path(__file__).resolve().with_name("_stop_race.py")
ROOT = RACE.parents[3]


def _log_of_user_stopped(state: str, how: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(RACE), state, how],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    log: list[str] = json.loads(done.stdout.splitlines()[-1])
    return log


@pytest.mark.parametrize("how", ["graceful", "force"])
def test_a_user_whose_think_time_ends_before_its_kill_arrives_starts_no_iteration(
    how: str,
) -> None:
    assert _log_of_user_stopped("waiting", how) == ["started", "finished"]


def test_a_user_stopped_in_an_iteration_finishes_it_and_starts_no_other() -> None:
    log = _log_of_user_stopped("running", "graceful")
    assert log == ["started", "finished", "started", "finished"]
