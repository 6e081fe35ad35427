"""A flow step's extraction and named assertions on real responses: a scenario file is
planned with `plan_run`, each step's compiled `StepChecks` run on what a small server answers
(geventhttpclient, the client under Locust's FastHttpSession). The whole flow through
`run_flow` and the recorder runs in tests/e2e/test_flow_scripting.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from geventhttpclient.useragent import UserAgent

from harness.engine._extract import JsonQuery
from harness.engine._response_view import MISSING
from harness.engine._step_checks import StepChecks, step_checks
from harness.plan import StepPlan
from harness.spec import plan_run

TOKEN, CSRF, SESSION, REQUEST_ID = "tok-123", "c-42", "abc", "r-1"


class _Handler(BaseHTTPRequestHandler):
    """`POST /login` hands out a token (JSON), a session cookie and a request id header;
    `GET /page` an HTML form with a CSRF token; `GET /me` needs all three (else 401)."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, dict[str, str]]]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._note()
        body = {"access_token": TOKEN, "orders": [1, 2, 3], "total": "42.5", "nickname": None}
        self._answer(
            200,
            json.dumps(body).encode(),
            ("Set-Cookie", f"session={SESSION}; Path=/; HttpOnly"),
            ("Set-Cookie", "theme=dark; Path=/"),
            ("X-Request-Id", REQUEST_ID),
        )

    def do_GET(self) -> None:
        self._note()
        if self.path == "/page":
            html = f'<form><input name="csrf" value="{CSRF}"><input name="csrf" value="x"></form>'
            self._answer(200, html.encode(), content_type="text/html; charset=utf-8")
        elif self.path == "/me":
            good = (
                self.headers.get("Authorization") == f"Bearer {TOKEN}"
                and self.headers.get("X-CSRF") == CSRF
                and f"session={SESSION}" in (self.headers.get("Cookie") or "")
            )
            body = {"user": "bob"} if good else {"error": "unauthorized"}
            self._answer(200 if good else 401, json.dumps(body).encode())
        else:
            self._answer(404, b"{}")

    def _note(self) -> None:
        self.seen.append((self.path, dict(self.headers.items())))

    def _answer(
        self,
        status: int,
        body: bytes,
        *headers: tuple[str, str],
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[tuple[str, dict[str, str]]]]]:
    seen: list[tuple[str, dict[str, str]]] = []
    handler = type("Handler", (_Handler,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


Seen = list[tuple[str, dict[str, str]]]


def _steps(tmp_path: Path, steps: str) -> tuple[StepPlan, ...]:
    """The planned steps of a one-journey scenario file."""
    scenario = tmp_path / "flow.yaml"
    scenario.write_text(
        "version: 1\nstages: [{duration: 1s, users: 1}]\nsla: false\n"
        "journeys:\n  shop:\n    steps:\n" + steps
    )
    return plan_run(scenario).journeys[0].steps


def _check(
    step: StepPlan, url: str, variables: dict[str, Any], headers: dict[str, str] | None = None
) -> str | None:
    """Sends the step's request (its path as planned) and runs its checks on the answer."""
    checks = step_checks(step)
    assert checks is not None
    response = UserAgent().urlopen(
        url + step.path,
        method=step.method,
        headers=headers,
        payload=b"{}" if step.method == "POST" else None,
    )
    return checks.run(variables, response, 12.0)


LOGIN = """\
      - operation: login
        method: POST
        path: /login
        extract:
          token: {json: $.access_token}
          first_order: orders.0
          order_ids: {json: "$.orders[*]", all: true}
          request_id: {header: x-request-id}
          session: {cookie: session}
          themes: {cookie: theme, all: true}
          nickname: {json: $.nickname, default: anonymous}
          missing: {json: $.no_such_key, default: anonymous}
        check:
          status: 200
          json_schema: {type: object, required: [access_token, orders]}
          assert:
            - {name: token issued, value: "{token}", matches: "^tok-"}
            - {name: JSON answer, header: Content-Type, contains: application/json}
            - {name: three orders, json: $.orders, length: 3, contains: 2}
            - {name: total in range, json: $.total, gt: 0, lt: 100}
            - {name: ids extracted, value: "{order_ids}", length: {ge: 3, le: 3}}
            - {name: first order, value: "{first_order}", equals: "1"}
            - {name: request and session, value: "{request_id}/{session}", equals: "r-1/abc"}
            - {name: no debug header, header: X-Debug, exists: false}
            - {name: token not empty, value: "{token}", not_equals: ""}
      - operation: page
        path: /page
        extract:
          csrf: {regex: 'name="csrf" value="([^"]+)"'}
          all_values: {regex: 'value="(?P<v>[^"]+)"', group: v, all: true}
        check:
          assert: [{name: two fields, value: "{all_values}", length: 2, not_contains: "y"}]
"""


def test_json_header_cookie_and_regex_extractions_store_their_values(
    tmp_path: Path, server: tuple[str, Seen]
) -> None:
    url, _ = server
    login, page = _steps(tmp_path, LOGIN)
    variables: dict[str, Any] = {}
    assert _check(login, url, variables) is None
    assert variables == {
        "token": TOKEN,
        "first_order": 1,
        "order_ids": [1, 2, 3],
        "request_id": REQUEST_ID,
        "session": SESSION,
        "themes": ["dark"],
        "nickname": None,  # JSON null is a value: the default is for nothing found
        "missing": "anonymous",
    }
    assert _check(page, url, variables) is None
    assert variables["csrf"] == CSRF
    assert variables["all_values"] == [CSRF, "x"]


def _one_step(check: str) -> str:
    return f"      - {{operation: login, method: POST, path: /login, {check}}}\n"


@pytest.mark.parametrize(
    ("written", "error"),
    [
        ("extract: {token: $.token}", "extract 'token' failed: no $.token in the JSON body"),
        ("extract: {token: items.0.id}", "extract 'token' failed: no items.0.id in the JSON body"),
        ("extract: {rid: {header: X-Trace-Id}}", "extract 'rid' failed: no header X-Trace-Id"),
        ("extract: {sid: {cookie: sid}}", "extract 'sid' failed: no cookie sid set"),
        (
            r"extract: {n: {regex: 'nonce=(\d+)'}}",
            r"extract 'n' failed: no match for 'nonce=(\\d+)' in the body",
        ),
        (
            "extract: {ids: {json: '$.nope[*]', all: true}}",
            "extract 'ids' failed: no $.nope[*] in the JSON body",
        ),
        (
            "check: {assert: [{name: many orders, json: $.orders, length: {ge: 5}}]}",
            "check 'many orders' failed: length >= 5",
        ),
        (
            "check: {assert: [{name: tracing, header: X-Trace-Id, exists: true}]}",
            "check 'tracing' failed: header X-Trace-Id missing",
        ),
        (
            "check: {assert: [{name: tracing, header: X-Trace-Id, equals: x}]}",
            "check 'tracing' failed: header X-Trace-Id missing",
        ),
        ("check: {assert: [{json: $.total, lt: 10}]}", "check 'json $.total < 10' failed: < 10"),
        (
            "check: {assert: [{name: token, json: $.access_token, matches: '^jwt\\.'}]}",
            "check 'token' failed: matches '^jwt\\\\.'",
        ),
        (
            "check: {assert: [{name: order 4, json: $.orders, contains: 4}]}",
            "check 'order 4' failed: contains 4",
        ),
        (
            "check: {assert: [{name: kind, header: content-type, not_contains: json}]}",
            "check 'kind' failed: not contains 'json'",
        ),
        (
            "check: {assert: [{name: nick, json: $.nickname, equals: bob}]}",
            "check 'nick' failed: equals 'bob'",
        ),
        (
            "check: {json_schema: {required: [refresh_token]}}",
            'json_schema failed at $: required ["refresh_token"]',
        ),
        (
            "check: {json_schema: {properties: {orders: {items: {type: string}}}}}",
            'json_schema failed at $.orders[0]: type "string"',
        ),
        ("check: {max_latency: 10ms}", "latency 12 ms above 10 ms"),
        ("check: {json_path: $.refresh}", "no $.refresh in the JSON body"),
        ("check: {json_path: orders.7}", "no orders.7 in the JSON body"),
        ("check: {body_contains: refresh}", "body does not contain 'refresh'"),
    ],
)
def test_a_failed_extraction_or_check_names_itself_and_not_the_value_seen(
    tmp_path: Path, server: tuple[str, Seen], written: str, error: str
) -> None:
    url, _ = server
    (step,) = _steps(tmp_path, _one_step(written))
    assert _check(step, url, {}) == error


def test_an_assertion_compares_what_a_person_means_across_types(
    tmp_path: Path, server: tuple[str, Seen]
) -> None:
    url, _ = server
    checks = [
        "{json: $.total, equals: 42.5}",  # the JSON's "42.5" is text: equal to the number
        "{json: $.total, ge: 42.5}",
        "{json: '$.orders[0]', equals: '1'}",
        "{json: $.orders, length: 3}",
        "{json: $.orders, not_contains: 9}",
        "{json: $, contains: access_token}",  # a mapping contains its keys
        "{json: $.nickname, equals: null}",
        "{json: $.nickname, exists: true}",
        "{json: $.nothing, exists: false}",
        "{header: X-REQUEST-ID, equals: r-1}",
        "{cookie: session, length: 3}",
        "{value: 'fixed', equals: fixed}",
    ]
    (step,) = _steps(tmp_path, _one_step(f"check: {{assert: [{', '.join(checks)}]}}"))
    assert _check(step, url, {}) is None


def test_a_step_that_checks_nothing_beyond_its_status_compiles_to_nothing(
    tmp_path: Path,
) -> None:
    plain, checked = _steps(
        tmp_path,
        "      - {operation: a, path: /a}\n      - {operation: b, path: /b, check: {json_path: x}}\n",
    )
    assert step_checks(plain) is None
    compiled = step_checks(checked)
    assert isinstance(compiled, StepChecks)
    assert step_checks(checked) is compiled  # compiled once, then looked up


@pytest.mark.parametrize(
    ("expr", "first", "every"),
    [
        ("items.0.id", 7, [7]),
        ("items.-1.id", 9, [9]),
        ("$.items[0].id", 7, [7]),
        ("$['items'][1]['id']", 8, [8]),
        ("$.items[*].id", 7, [7, 8, 9]),
        ("$.items[?@.id > 7].id", 8, [8, 9]),
        ("$..id", 7, [7, 8, 9]),
        ("$.map[0]", "zero", ["zero"]),
        ("map.0", "zero", ["zero"]),
        ("$.map['0']", "zero", ["zero"]),
        ("$.items[5].id", MISSING, []),
        ("$.nothing", MISSING, []),
        ("$.count", None, [None]),
    ],
)
def test_json_queries_take_the_first_and_every_match(
    expr: str, first: object, every: object
) -> None:
    document = {"items": [{"id": 7}, {"id": 8}, {"id": 9}], "map": {"0": "zero"}, "count": None}
    query = JsonQuery(expr)
    if first is MISSING:
        assert query.first(document) is MISSING
    else:
        assert query.first(document) == first
    assert query.every(document) == every
