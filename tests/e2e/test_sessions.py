"""Sessions through a real `perfctl run`: each closed-model user and each open-model arrival
has its own cookie jar and variables; on_start logs in once per user (per arrival in the open
model), on_stop logs out, and `reauth_on: 401` logs in again and retries a request whose
token went stale. The target is a small aiohttp service (tests/e2e/_login_target.py) that
counts a request whose session cookie belongs to another user than the one asking."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import serving

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
LOGIN_TARGET = Path(__file__).resolve().parent / "_login_target.py"

JOURNEY = """\
journeys:
  member:
    think_time: {think}
    variables: {{who: {{range: [1, 1000000]}}}}
    on_start:
      - {{operation: login, method: POST, path: /login, json: {{user: "u{{who}}"}},
         extract: {{token: token}}}}
    reauth_on: 401
    steps:
      - {{operation: me, path: "/me?as=u{{who}}", think_time: 30ms}}
      - {{operation: cart, path: /cart, headers: {{Authorization: "Bearer {{token}}"}}}}
    on_stop:
      - {{operation: logout, method: POST, path: /logout, check: {{status: 204}}}}
objectives:
  - {{operation: cart, metric: error_rate, limit: "< 1 %"}}
"""
# the users start within the first second and are held 3 s (a single 4 s stage would ramp the
# last user in at the very end: under load it never got to log in)
CLOSED = (
    "version: 1\nsla: false\nstages: [{duration: 1s, users: 4}, {duration: 3s, users: 4}]\n"
) + JOURNEY.format(think="20ms")
OPEN = (
    "version: 1\nsla: false\nmodel: open\nmax_concurrency: 100\n"
    "stages: [{duration: 3s, rate: 30/s}]\n" + JOURNEY.format(think=0)
)


@pytest.fixture
def login_target() -> Iterator[str]:
    with serving(LOGIN_TARGET, "/_counts") as url:
        yield url


def _run(tmp_path: Path, text: str, target: str) -> tuple[Counter[str], Counter[str]]:
    """Runs the scenario; (what the target counted, outcomes per `op outcome` recorded)."""
    scenario = tmp_path / "members.yaml"
    scenario.write_text(text)
    done = subprocess.run(
        [
            PERFCTL,
            "run",
            str(scenario),
            "--target",
            target,
            "--out",
            str(tmp_path / "runs"),
            "--run-id",
            "r1",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with urllib.request.urlopen(f"{target}/_counts", timeout=5) as answer:
        served = Counter(json.loads(answer.read()))
    recorded: Counter[str] = Counter()
    for line in (tmp_path / "runs" / "r1" / "timeline.jsonl").read_text().splitlines():
        window = json.loads(line)
        for outcome, count in window["counts"].items():
            recorded[f"{window['op']} {outcome}"] += count
    return served, recorded


def test_closed_model_users_keep_their_own_cookies_login_once_and_refresh_stale_tokens(
    tmp_path: Path, login_target: str
) -> None:
    served, recorded = _run(tmp_path, CLOSED, login_target)
    # every user sent its own cookie, never another user's, never none
    assert served["me ok"] > 20
    assert served["me mismatch"] == 0
    assert served["me 401"] == 0
    # a token serves 3 carts: every 4th cart is a 401, answered by one login and a retry
    assert served["cart 401"] >= 4
    assert served["cart ok"] > 20
    # once per user, then once per refresh; the run's end may stop a user between a 401 and
    # its login (seen once in 40 refreshes under CI's load), never more than once per user
    refreshes = served["login"] - 4
    assert served["cart 401"] - 4 <= refreshes <= served["cart 401"]
    # on_stop: every user logged out of its own session when the run ended
    assert served["logout"] == 4
    assert served["logout unknown"] == 0
    # the 401s that triggered a refresh are expected answers, not errors
    assert recorded["cart ok"] == served["cart ok"] + served["cart 401"]
    assert {key for key, count in recorded.items() if count and not key.endswith(" ok")} == set()
    # journey.member times the steps only: on_start ran outside the iterations
    assert recorded["journey.member ok"] == recorded["me ok"]


def test_open_model_arrivals_never_share_a_cookie_jar(tmp_path: Path, login_target: str) -> None:
    served, recorded = _run(tmp_path, OPEN, login_target)
    # each arrival is a new visitor: it logs in, asks with its own cookie, logs out
    arrivals = recorded["journey.member ok"]
    assert arrivals > 25  # the rate ramps from 0 to 30/s
    assert served["me ok"] == arrivals
    assert served["me mismatch"] == 0  # arrivals overlap (30 ms pause) on one shared pool
    assert served["me 401"] == 0
    assert served["login"] == arrivals + served["cart 401"]
    assert served["logout"] == arrivals
    assert served["logout unknown"] == 0


def test_the_shipped_account_journey_logs_in_to_the_reference_backend(
    tmp_path: Path, backend_url: str
) -> None:
    import yaml

    smoke = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "scenarios/smoke.yaml").read_text()
    )
    scenario = {
        "version": 1,
        "sla": False,
        "stages": [{"duration": "1s", "users": 3}, {"duration": "3s", "users": 3}],
        "journeys": {"account": {**smoke["journeys"]["account"], "think_time": "50ms"}},
        "objectives": [
            {"operation": op, "metric": "error_rate", "limit": "< 1 %"}
            for op in ("login", "cart_view", "order_history", "preferences_get")
        ],
    }
    path = tmp_path / "account.yaml"
    path.write_text(yaml.safe_dump(scenario))
    done = subprocess.run(
        [
            PERFCTL,
            "run",
            str(path),
            "--target",
            backend_url,
            "--out",
            str(tmp_path / "runs"),
            "--run-id",
            "r1",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    recorded: Counter[str] = Counter()
    for line in (tmp_path / "runs" / "r1" / "timeline.jsonl").read_text().splitlines():
        window = json.loads(line)
        for outcome, count in window["counts"].items():
            recorded[f"{window['op']} {outcome}"] += count
    assert recorded["login ok"] == 3  # once per user
    assert recorded["logout ok"] == 3  # on_stop
    for op in ("cart_view", "order_history", "preferences_get"):
        assert recorded[f"{op} ok"] > 10, op
    assert {key for key, count in recorded.items() if count and not key.endswith(" ok")} == set()
