"""A scenario's `${env:NAME}` references and `data:` sources: resolved, planned, and every
mistake an error at `file:line`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import SpecError, UsageError
from harness.spec import load_scenario, plan_run, scenario_schema

HEAD = """\
version: 1
model: closed
sla: false
stages: [{duration: 10s, users: 2}]
"""

FLOW = """\
journeys:
  login:
    data: users
    steps:
      - operation: login
        method: POST
        path: /login
        headers: {Authorization: "Bearer ${env:PERF_TOKEN}"}
        json: {user: "{username}", password: "{password}"}
"""


@pytest.fixture
def scenario_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERF_TOKEN", "t0ps3cret")
    (tmp_path / "users.csv").write_text("username,password\nalice,a\nbob,b\ncarol,c\n")
    return tmp_path


def _write(directory: Path, text: str) -> Path:
    path = directory / "s.yaml"
    path.write_text(text)
    return path


def _error(path: Path) -> str:
    with pytest.raises(SpecError) as error:
        load_scenario(path)
    return str(error.value)


def test_a_secret_stays_a_reference_in_the_plan_and_a_public_one_is_substituted(
    scenario_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGION", "eu")
    monkeypatch.setenv("USERS", "7")
    path = _write(
        scenario_dir,
        HEAD.replace("users: 2", "users: '${env:USERS}'")
        + "public_env: [REGION, USERS]\n"
        + "data:\n  users: {file: users.csv, strategy: unique, scope: user}\n"
        + FLOW.replace("path: /login", "path: /login/${env:REGION}"),
    )
    plan = plan_run(path, profile="full")
    text = json.dumps(plan.to_dict())
    assert "t0ps3cret" not in text
    step = plan.journeys[0].steps[0]
    assert step.headers == {"Authorization": "Bearer ${env:PERF_TOKEN}"}
    assert step.path == "/login/eu"
    assert plan.stages[0].users_end == 7
    (source,) = plan.data_sources
    assert (source.name, source.strategy, source.on_exhausted, source.scope) == (
        "users",
        "unique",
        "stop",
        "user",
    )
    assert (source.rows, source.columns) == (3, ("username", "password"))
    assert source.file == str(scenario_dir / "users.csv")
    assert plan.journeys[0].data == ("users",)


def test_a_saved_plan_round_trips_and_needs_its_environment(
    scenario_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(scenario_dir, HEAD + "data:\n  users: {file: users.csv}\n" + FLOW)
    plan = plan_run(path, profile="full")
    saved = scenario_dir / "plan.json"
    saved.write_text(json.dumps(plan.to_dict()))
    assert plan_run(saved) == plan
    monkeypatch.delenv("PERF_TOKEN")
    with pytest.raises(UsageError, match="needs environment variable PERF_TOKEN, not set"):
        plan_run(saved)


def test_an_unset_variable_is_an_error_at_its_line(
    scenario_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERF_TOKEN")
    path = _write(scenario_dir, HEAD + "data:\n  users: {file: users.csv}\n" + FLOW)
    assert _error(path) == (
        "s.yaml:14: journeys.login.steps.0.headers.Authorization: environment variable "
        "PERF_TOKEN is not set (set it, or give a default: ${env:PERF_TOKEN:-value})"
    )
    defaulted = _write(
        scenario_dir,
        HEAD
        + "data:\n  users: {file: users.csv}\n"
        + FLOW.replace("PERF_TOKEN}", "PERF_TOKEN:-dev}"),
    )
    assert load_scenario(defaulted).spec.journeys["login"].steps is not None


def test_the_data_file_path_is_expanded_and_may_be_absolute(
    scenario_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_DIR", str(scenario_dir))
    path = _write(
        scenario_dir, HEAD + "data:\n  users: {file: '${env:DATA_DIR}/users.csv'}\n" + FLOW
    )
    assert load_scenario(path).data_sources[0].file == str(scenario_dir / "users.csv")


@pytest.mark.parametrize(
    ("data", "flow", "message"),
    [
        (
            "  users: {file: users.csv, strategy: shuffled}\n",
            FLOW,
            "s.yaml:6: data.users.strategy: input should be 'sequential', 'random' or 'unique', "
            "got 'shuffled'",
        ),
        (
            "  users: {file: nope.csv}\n",
            FLOW,
            "s.yaml:6: data.users.file: nope.csv: no such file",
        ),
        (
            "  users: {file: users.txt}\n",
            FLOW,
            "s.yaml:6: data.users.file: cannot tell the format of 'users.txt' from its "
            "extension; set `format: csv`, `json` or `jsonl`",
        ),
        (
            "  users: {file: ragged.csv}\n",
            FLOW,
            "s.yaml:6: data.users.file: ragged.csv:3: the row has 3 fields, the header 2 "
            "(username, password)",
        ),
        (
            "  users: {file: users.csv, strategy: random, on_exhausted: stop}\n",
            FLOW,
            "s.yaml:6: data.users.on_exhausted: `on_exhausted` is for sequential and unique "
            "sources (random rows never run out)",
        ),
        (
            "  users: {file: users.csv, scope: forever}\n",
            FLOW,
            "s.yaml:6: data.users.scope: input should be 'iteration' or 'user', got 'forever'",
        ),
        (
            "  users: {file: users.csv}\n",
            FLOW.replace("data: users", "data: [users, people]"),
            "s.yaml:9: journeys.login.data.1: unknown data source 'people'; declared under "
            "`data:`: users",
        ),
        (
            "  users: {file: users.csv}\n",
            FLOW.replace("data: users", "data: users\n    variables: {username: x}"),
            "s.yaml:9: journeys.login.data.0: column 'username' of data source 'users' is "
            "also a variable; rename one",
        ),
        (
            "  users: {file: users.csv}\n",
            "journeys:\n  browse: {data: users}\n",
            "s.yaml:8: journeys.browse.data: `data` is for step journeys only",
        ),
        (
            "  users: {file: users.csv}\n",
            FLOW.replace("{password}", "{pin}"),
            "s.yaml:11: journeys.login.steps.0: unknown variable {pin}",
        ),
    ],
)
def test_bad_data_sources_are_errors_at_their_line(
    scenario_dir: Path, data: str, flow: str, message: str
) -> None:
    (scenario_dir / "ragged.csv").write_text("username,password\nalice,a\nbob,b,extra\n")
    (scenario_dir / "users.txt").write_text("username,password\nalice,a\n")
    path = _write(scenario_dir, HEAD + "data:\n" + data + flow)
    assert _error(path).startswith(message)


def test_the_json_schema_covers_data_sources_and_public_env() -> None:
    schema = scenario_schema()
    text = json.dumps(schema)
    for field in ("public_env", "on_exhausted", "sequential", "unique", "iteration"):
        assert field in text
    journey = schema["$defs"]["JourneySpec"]["properties"]["data"]
    assert {"type": "string"} in journey["anyOf"]
