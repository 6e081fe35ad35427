"""A flow step's `extract:` and `check:` (assertions, JSON Schema) in scenario files: every
form plans to what the engine runs, the short forms still mean what they meant, and every
bad entry is a SpecError naming the file and the entry's line."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.errors import SpecError
from harness.plan import AssertionPlan, ConditionPlan, ExtractPlan, RunPlan
from harness.spec import load_scenario, plan_run, scenario_schema

HEAD = """\
version: 1
stages: [{duration: 10s, users: 1}]
sla: false
journeys:
  shop:
    variables: {user: bob}
    steps:
"""
"""Lines 1-7 of every file: the step under test starts on line 8."""

STEPS = """\
      - operation: login
        method: POST
        path: /login
        json: {user: "{user}"}
        extract:
          pid: items.0.product_id
          token: $.access_token
          ids: {json: "$.items[*].id", all: true}
          rid: {header: X-Request-Id}
          sid: {cookie: session}
          csrf: {regex: 'csrf=(\\w+)'}
          whole: {regex: 'v\\d+'}
          named: {regex: '(?P<k>\\w+)=(?P<v>\\w+)', group: v, all: true}
          next: {json: $.next, default: null}
        check:
          status: [200, 201]
          json_path: $.items[0]
          json_schema: schemas/login.json
          assert:
            - {name: token issued, value: "{token}", matches: '^[\\w.-]+$', length: {ge: 8, le: 4096}}
            - {header: Content-Type, contains: json}
            - {name: total, json: $.total, ge: 1, lt: 1000}
            - {name: same user, json: user, equals: "{user}", exists: true}
      - operation: me
        path: /me/{sid}
        headers: {Authorization: "Bearer {token}"}
        check:
          json_schema: {type: object, required: [user]}
"""


def _write(tmp_path: Path, steps: str, name: str = "flow.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + steps)
    (tmp_path / "schemas").mkdir(exist_ok=True)
    (tmp_path / "schemas" / "login.json").write_text(
        json.dumps({"type": "object", "required": ["access_token"]})
    )
    return path


def test_every_form_plans_to_what_the_engine_runs(tmp_path: Path) -> None:
    plan = plan_run(_write(tmp_path, STEPS))
    login, me = plan.journeys[0].steps
    assert login.extract == (
        ExtractPlan("pid", "json", "items.0.product_id"),
        ExtractPlan("token", "json", "$.access_token"),
        ExtractPlan("ids", "json", "$.items[*].id", all=True),
        ExtractPlan("rid", "header", "X-Request-Id"),
        ExtractPlan("sid", "cookie", "session"),
        ExtractPlan("csrf", "regex", r"csrf=(\w+)", group=1),
        ExtractPlan("whole", "regex", r"v\d+", group=0),
        ExtractPlan("named", "regex", r"(?P<k>\w+)=(?P<v>\w+)", group="v", all=True),
        ExtractPlan("next", "json", "$.next", default=None, has_default=True),
    )
    assert login.check.json_schema == {"type": "object", "required": ["access_token"]}
    assert login.check.json_path == "$.items[0]"
    assert login.check.assertions == (
        AssertionPlan(
            "token issued",
            "value",
            "{token}",
            (
                ConditionPlan("matches", r"^[\w.-]+$"),
                ConditionPlan("length_le", 4096),
                ConditionPlan("length_ge", 8),
            ),
        ),
        AssertionPlan(
            "header Content-Type contains 'json'",
            "header",
            "Content-Type",
            (ConditionPlan("contains", "json"),),
        ),
        AssertionPlan(
            "total", "json", "$.total", (ConditionPlan("lt", 1000.0), ConditionPlan("ge", 1.0))
        ),
        AssertionPlan(
            "same user",
            "json",
            "user",
            (ConditionPlan("equals", "{user}"), ConditionPlan("exists", True)),
        ),
    )
    assert me.check.json_schema == {"type": "object", "required": ["user"]}
    # the plan travels to the workers as JSON and comes back the same
    assert RunPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_a_plan_json_of_earlier_versions_still_reads_its_extractions(tmp_path: Path) -> None:
    plan = plan_run(_write(tmp_path, "      - {operation: a, path: /a, extract: {x: items.0}}\n"))
    data = plan.to_dict()
    data["journeys"][0]["steps"][0]["extract"] = {"x": "items.0"}
    for key in ("json_schema", "assertions"):
        del data["journeys"][0]["steps"][0]["check"][key]
    assert RunPlan.from_dict(data) == plan


def _error(tmp_path: Path, steps: str) -> str:
    _write(tmp_path, steps, "bad.yaml")
    with pytest.raises(SpecError) as caught:
        load_scenario("./bad.yaml")
    return str(caught.value)


def _step(extra: str) -> str:
    return "      - operation: login\n        path: /login\n" + extra


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "        extract:\n          token: $.items[\n",
            "bad.yaml:11: journeys.shop.steps.0.extract.token: bad JSONPath (unexpected end "
            "of query), got '$.items['",
        ),
        (
            "        extract:\n          token: {json: '$.a..'}\n",
            "bad.yaml:11: journeys.shop.steps.0.extract.token.json: bad JSONPath (",
        ),
        (
            "        extract:\n          token: items..id\n",
            "bad.yaml:11: journeys.shop.steps.0.extract.token: expected a dotted path such as "
            "'items.0.id' or a JSONPath such as '$.items[0].id', got 'items..id'",
        ),
        (
            "        extract:\n          csrf: {regex: 'csrf=(\\w+'}\n",
            "bad.yaml:11: journeys.shop.steps.0.extract.csrf.regex: bad regular expression "
            "(missing ), unterminated subpattern at position 5), got 'csrf=(\\\\w+'",
        ),
        (
            "        extract:\n          csrf: {regex: 'csrf=(\\w+)', group: 2}\n",
            "bad.yaml:11: journeys.shop.steps.0.extract.csrf: the pattern has 1 group(s), "
            "got group 2",
        ),
        (
            "        extract:\n          csrf: {regex: 'csrf=(\\w+)', group: token}\n",
            "bad.yaml:11: journeys.shop.steps.0.extract.csrf: no group named 'token' in the "
            "pattern (named: none), got a mapping",
        ),
        (
            "        extract:\n          sid: {cookie: session, header: X-Session}\n",
            "bad.yaml:11: journeys.shop.steps.0.extract.sid: an extraction takes its value from "
            "one of json, header, cookie or regex, got header, cookie",
        ),
        (
            "        extract:\n          sid: {from: cookie, name: session}\n",
            "bad.yaml:11: journeys.shop.steps.0.extract.sid.from: unknown key 'from'; expected "
            "one of: all, cookie, default, group, header, json, regex",
        ),
        (
            "        extract:\n          sid: {json: $.id, group: 1}\n",
            "bad.yaml:11: journeys.shop.steps.0.extract.sid: `group` is for regex extractions only",
        ),
        (
            "        extract:\n          session-id: {cookie: session}\n",
            "bad.yaml:11: journeys.shop.steps.0.extract.session-id: a variable name is letters, "
            "digits and '_' (not first), got 'session-id'",
        ),
        (
            "        check:\n          json_path: '$[?@.x =='\n",
            "bad.yaml:11: journeys.shop.steps.0.check.json_path: bad JSONPath (",
        ),
        (
            "        check:\n          json_schema: schemas/missing.json\n",
            "bad.yaml:11: journeys.shop.steps.0.check.json_schema: no JSON Schema file "
            "'schemas/missing.json' (looked next to bad.yaml)",
        ),
        (
            "        check:\n          json_schema:\n            type: object\n"
            "            required: token\n",
            "bad.yaml:13: journeys.shop.steps.0.check.json_schema.required: not a JSON Schema: "
            "'token' is not of type 'array'",
        ),
        (
            "        check:\n          assert:\n            - {name: t, header: X, matches: 'a(('}\n",
            "bad.yaml:12: journeys.shop.steps.0.check.assert.0.matches: bad regular expression "
            "(missing ), unterminated subpattern at position 2), got 'a(('",
        ),
        (
            "        check:\n          assert:\n            - {name: t, json: '$.a[', equals: 1}\n",
            "bad.yaml:12: journeys.shop.steps.0.check.assert.0.json: bad JSONPath (",
        ),
        (
            "        check:\n          assert:\n            - {name: t, header: X, cookie: y, "
            "exists: true}\n",
            "bad.yaml:12: journeys.shop.steps.0.check.assert.0: an assertion checks one of "
            "value, json, header or cookie, got header, cookie",
        ),
        (
            "        check:\n          assert:\n            - {name: t, header: X}\n",
            "bad.yaml:12: journeys.shop.steps.0.check.assert.0: an assertion needs a condition: "
            "one of equals, not_equals, contains, not_contains, matches, lt, le, gt, ge, "
            "length, exists",
        ),
        (
            "        check:\n          assert:\n            - {name: t, header: X, equal: 1}\n",
            "bad.yaml:12: journeys.shop.steps.0.check.assert.0.equal: unknown key 'equal' "
            "(did you mean 'equals'?)",
        ),
        (
            "        check:\n          assert:\n            - {name: t, header: X, length: {gte: 1}}\n",
            "bad.yaml:12: journeys.shop.steps.0.check.assert.0.length.gte: unknown key 'gte' "
            "(did you mean 'gt'?); expected one of: equals, ge, gt, le, lt",
        ),
        (
            "        check:\n          assert:\n            - {name: t, value: '{tokn}', equals: 1}\n",
            "bad.yaml:12: journeys.shop.steps.0.check.assert.0: unknown variable {tokn}; "
            "extract it in this or an earlier step or declare it (known: user)",
        ),
    ],
)
def test_bad_entries_are_errors_at_their_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _error(tmp_path, _step(extra)).startswith(message)


def test_an_unreadable_or_invalid_schema_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, _step("        check: {json_schema: schemas/broken.json}\n"), "bad.yaml")
    (tmp_path / "schemas" / "broken.json").write_text("{not json")
    with pytest.raises(SpecError) as caught:
        load_scenario("./bad.yaml")
    assert str(caught.value).startswith(
        "bad.yaml:10: journeys.shop.steps.0.check.json_schema: schemas/broken.json: cannot be "
        "read as a schema: Expecting property name"
    )
    (tmp_path / "schemas" / "broken.json").write_text('{"type": "objekt"}')
    with pytest.raises(SpecError) as caught:
        load_scenario("./bad.yaml")
    assert str(caught.value).startswith(
        "bad.yaml:10: journeys.shop.steps.0.check.json_schema: not a JSON Schema: 'objekt' is "
        "not valid under any of the given schemas (at ['type'])"
    )


def test_the_scenario_schema_describes_every_new_field(tmp_path: Path) -> None:
    schema = scenario_schema()
    document = yaml.safe_load(HEAD + STEPS)
    jsonschema.validate(document, schema)
    step = document["journeys"]["shop"]["steps"][0]
    for bad in (
        {**step, "extract": {"x": {"jsn": "$.a"}}},
        {**step, "check": {"assert": [{"name": "t", "header": "X", "equal": 1}]}},
        {**step, "check": {"assert": [{"header": "X", "length": {"gte": 1}}]}},
    ):
        document["journeys"]["shop"]["steps"][0] = bad
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, schema)
