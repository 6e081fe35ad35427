"""Open-model arrivals get a cookie jar of their own over the driver's one connection pool.

Runs in a process of its own: Locust must monkey-patch a process before anything imports ssl.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """
import json
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from harness.engine._session import UserState, arrival_session
from harness.plan import JourneyPlan

class Driver(FastHttpUser):
    host = "http://127.0.0.1:9"
    abstract = False
    network_timeout = 7.0

driver = Driver(Environment(user_classes=[Driver]))
first, second = arrival_session(driver), arrival_session(driver)
state = UserState()
journey = JourneyPlan("account", 1.0, "flow")
print(json.dumps({
    "jars": len({id(driver.client.cookiejar), id(first.cookiejar), id(second.cookiejar)}),
    "agent_jar": first.client.cookiejar is first.cookiejar,
    "pools": len({id(s.client.clientpool) for s in (driver.client, first, second)}),
    "base_url": first.base_url,
    "same_scope": state.scope(journey) is state.scope(journey),
    "fresh_scope": state.scope(journey).started,
}))
"""


def test_each_arrival_has_its_own_cookie_jar_over_the_shared_pool() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["jars"] == 3  # the driver's and one per arrival
    assert seen["agent_jar"]  # the jar the requests actually use
    assert seen["pools"] == 1  # no connection pool (no connection) per arrival
    assert seen["base_url"] == "http://127.0.0.1:9"
    assert seen["same_scope"]  # a closed-model user keeps one scope per flow journey
    assert seen["fresh_scope"] is False
