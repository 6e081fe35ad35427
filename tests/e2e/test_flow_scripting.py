"""Scripting a real service without Python, through a real `perfctl run`: a login whose token
(JSONPath), session cookie, request id (header) and CSRF token (regex on HTML) feed the next
steps; a named assertion that fails shows as `check_failed` under its name in the run's
errors; a failed extraction ends the iteration, and one with a default goes on. The target is
a small aiohttp shop (tests/e2e/_script_target.py) that refuses an order without all four."""

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

pytestmark = pytest.mark.parallel_safe

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
SCRIPT_TARGET = Path(__file__).resolve().parent / "_script_target.py"

SCENARIO = """\
version: 1
stages: [{duration: 4s, users: 4}]
sla: false
journeys:
  shop:
    think_time: 20ms
    steps:
      - operation: login
        method: POST
        path: /login
        json: {user: bob}
        extract:
          token: $.access_token
          user_id: user.id
          request_id: {header: X-Request-Id}
          session: {cookie: session}
        check:
          json_schema: {type: object, required: [access_token, user]}
          assert:
            - {name: token issued, value: "{token}", matches: '^tok-\\d+$'}
      - operation: form
        path: /form
        extract:
          csrf: {regex: 'name="csrf" value="([^"]+)"'}
        check:
          assert: [{name: csrf for this session, value: "{csrf}", not_equals: none}]
      - operation: order_place
        method: POST
        path: /orders
        json: {user: "{user_id}"}
        headers: {Authorization: "Bearer {token}", X-CSRF: "{csrf}", X-Request-Id: "{request_id}"}
        check:
          status: 201
          assert:
            - {name: order placed, json: $.status, equals: placed}
            - {name: two items, json: $.items, length: 2}
            - {name: JSON answer, header: content-type, contains: application/json}
  tracking:
    weight: 0.5
    think_time: 20ms
    steps:
      - operation: order_track
        path: /orders/7
        check:
          assert: [{name: order shipped, json: $.status, equals: shipped}]
  refresh:
    weight: 0.5
    think_time: 20ms
    steps:
      - {operation: refresh_login, method: POST, path: /login, extract: {refresh: $.refresh_token}}
      - {operation: refresh_never, path: "/never/{refresh}"}
  optional:
    weight: 0.5
    think_time: 20ms
    steps:
      - operation: optional_login
        method: POST
        path: /login
        extract:
          refresh: {json: $.refresh_token, default: none}
      - {operation: optional_next, path: "/next/{refresh}"}
objectives:
  - {operation: order_place, metric: error_rate, limit: "< 1 %"}
  - {operation: order_track, metric: error_rate, limit: "< 50 %"}
"""


@pytest.fixture
def shop() -> Iterator[str]:
    with serving(SCRIPT_TARGET, "/_counts") as url:
        yield url


def test_extractions_feed_later_steps_and_failed_checks_are_named_in_the_errors(
    tmp_path: Path, shop: str
) -> None:
    scenario = tmp_path / "shop.yaml"
    scenario.write_text(SCENARIO)
    done = subprocess.run(
        [
            PERFCTL,
            "run",
            str(scenario),
            "--target",
            shop,
            "--out",
            "runs",
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
    # only the tracking objective fails: its named check never holds
    assert done.returncode == 1, done.stdout + done.stderr
    with urllib.request.urlopen(f"{shop}/_counts", timeout=5) as answer:
        served: dict[str, int] = json.loads(answer.read())
    # token, cookie, header and regex extractions all reached the order: never a 401
    assert served.get("POST /orders 201", 0) > 10
    assert "POST /orders 401" not in served
    # a failed extraction ended its iteration; one with a default went on with it
    assert not [key for key in served if key.startswith("GET /never/")]
    assert served.get("GET /next/none 200", 0) > 5

    counts: Counter[str] = Counter()
    errors: dict[str, Counter[str]] = {}
    for line in (tmp_path / "runs" / "r1" / "timeline.jsonl").read_text().splitlines():
        window = json.loads(line)
        for outcome, count in window["counts"].items():
            if count:
                counts[f"{window['op']} {outcome}"] += count
        errors.setdefault(window["op"], Counter()).update(window.get("errors", {}))
    for op in ("login", "form", "order_place", "journey.shop", "optional_next"):
        assert counts[f"{op} ok"] > 5, op
        assert not [key for key in counts if key.startswith(f"{op} ") and key != f"{op} ok"]
    assert counts["order_track ok"] == 0
    assert counts["order_track check_failed"] > 5
    assert set(errors["order_track"]) == {"check 'order shipped' failed: equals 'shipped'"}
    assert counts["refresh_login check_failed"] > 5
    assert set(errors["journey.refresh"]) == {
        "extract 'refresh' failed: no $.refresh_token in the JSON body"
    }
    # the verdict's diagnosis names the failing check among the operation's top errors
    verdict = json.loads((tmp_path / "runs" / "r1" / "verdict.json").read_text())
    checks = {check["operation"]: check["status"] for check in verdict["checks"]}
    assert checks["order_track"] == "fail"
    assert checks["order_place"] in ("pass", "marginal")  # no error, but few requests
    broke = [d["sentence"] for d in verdict["diagnosis"] if d["rule"] == "operation_broke"]
    assert len(broke) == 1
    assert "100 % check_failed (check 'order shipped' failed: equals 'shipped' ×" in broke[0]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "extract: {token: '$.items[0'}",
            "bad.yaml:9: journeys.shop.steps.0.extract.token: bad JSONPath",
        ),
        (
            "extract: {csrf: {regex: 'value=(['}}",
            "bad.yaml:9: journeys.shop.steps.0.extract.csrf.regex: bad regular expression",
        ),
        (
            "check: {json_schema: missing.json}",
            "bad.yaml:9: journeys.shop.steps.0.check.json_schema: no JSON Schema file 'missing.json'",
        ),
        (
            "check: {assert: [{name: t, header: X, matches: '(('}]}",
            "bad.yaml:9: journeys.shop.steps.0.check.assert.0.matches: bad regular expression",
        ),
        (
            "extract: {sid: {from: cookie}}",
            "bad.yaml:9: journeys.shop.steps.0.extract.sid.from: unknown key 'from'",
        ),
    ],
)
def test_a_bad_extraction_or_assertion_is_exit_2_with_its_line_before_any_load(
    tmp_path: Path, entry: str, message: str
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "version: 1\nstages: [{duration: 1s, users: 1}]\nsla: false\njourneys:\n  shop:\n"
        "    steps:\n      - operation: login\n        path: /login\n        " + entry + "\n"
    )
    done = subprocess.run(
        [PERFCTL, "run", "bad.yaml", "--target", "http://127.0.0.1:9", "--out", "runs"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"error: {message}"), done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()
