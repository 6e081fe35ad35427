"""`${env:NAME}` secrets and `data:` feeders through a real `perfctl run` against a small aiohttp
target that records what it received (tests/e2e/_echo_target.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import serving

pytestmark = pytest.mark.parallel_safe

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
ECHO_TARGET = Path(__file__).resolve().parent / "_echo_target.py"
TOKEN = "s3cr3t-Tok3n-e2e"


@pytest.fixture
def echo_target() -> Iterator[str]:
    """The recording target; it answers 401 unless `Authorization: Bearer TOKEN` is sent."""
    with serving(ECHO_TARGET, "/health", env={**os.environ, "EXPECTED_TOKEN": TOKEN}) as url:
        yield url


def _seen(url: str, prefix: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_seen", timeout=5) as answer:
        records: list[dict[str, Any]] = json.loads(answer.read())
    return [record for record in records if record["path"].startswith(prefix)]


def _run(
    tmp_path: Path, scenario: str, target: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario)
    return subprocess.run(
        [
            PERFCTL,
            "run",
            str(path),
            "--target",
            target,
            "--out",
            str(tmp_path / "runs"),
            "--run-id",
            "r1",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
    )


def _events(run_dir: Path, kind: str) -> list[str]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [event["detail"] for event in map(json.loads, lines) if event["kind"] == kind]


SECRET_SCENARIO = """\
version: 1
model: closed
sla: false
stages: [{duration: 1s, users: 4}, {duration: 3s, users: 4}]
objectives: [{operation: login, metric: availability, limit: ">= 0 %"}]
data:
  accounts: {file: accounts.csv, strategy: unique}
journeys:
  login:
    think_time: 0.05s
    data: accounts
    steps:
      - operation: login
        method: POST
        path: /login
        query: {api_key: "${env:PERF_TOKEN}", region: "${env:PERF_REGION:-eu}"}
        headers: {Authorization: "Bearer ${env:PERF_TOKEN}"}
        json: {user: "{username}"}
      - operation: probe
        path: /probe
        headers: {Authorization: "Bearer ${env:PERF_TOKEN}"}
        check: {body_contains: "${env:PERF_TOKEN}"}
"""


def test_a_secret_is_used_but_never_written_and_unique_rows_split_across_two_workers(
    tmp_path: Path, echo_target: str
) -> None:
    rows = [f"user{i:03d}" for i in range(24)]
    (tmp_path / "accounts.csv").write_text("username\n" + "\n".join(rows) + "\n")
    done = _run(tmp_path, SECRET_SCENARIO, echo_target, "--workers", "2", env={"PERF_TOKEN": TOKEN})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    seen = _seen(echo_target, "/login")
    # the secret was sent (the target refuses anything else with a 401 and records it)
    assert seen
    assert all(record["authorization"] == f"Bearer {TOKEN}" for record in seen)
    assert all(record["query"] == {"api_key": TOKEN, "region": "eu"} for record in seen)
    # each row at most once across both workers, and every row was used (they ran out)
    users = Counter(record["body"]["user"] for record in seen)
    assert max(users.values()) == 1
    assert sorted(users) == rows
    run_dir = tmp_path / "runs" / "r1"
    exhausted = _events(run_dir, "data_exhausted")
    assert {notice.split(" ran out in ")[1].split(" ")[0] for notice in exhausted} == {
        "worker-1",
        "worker-2",
    }

    # no artefact of the run (plan, run record, timeline, events, logs, report, summary,
    # verdict) holds the value, and neither does anything perfctl printed
    files = [path for path in run_dir.rglob("*") if path.is_file()]
    assert {"plan.json", "run.json", "timeline.jsonl", "index.html", "summary.md"} <= {
        path.name for path in files
    }
    assert any(path.parent.name == "logs" for path in files)
    leaks = [str(path) for path in files if TOKEN.encode() in path.read_bytes()]
    assert leaks == []
    assert TOKEN not in done.stdout + done.stderr
    plan = json.loads((run_dir / "plan.json").read_text())
    step = plan["journeys"][0]["steps"][0]
    assert step["headers"] == {"Authorization": "Bearer ${env:PERF_TOKEN}"}
    # the failed check's message named the secret: it was masked, not dropped
    timeline = (run_dir / "timeline.jsonl").read_text()
    assert "***" in timeline
    assert len(_seen(echo_target, "/probe")) == len(rows)


def test_an_unset_variable_is_exit_2_at_its_line_before_any_load(
    tmp_path: Path, echo_target: str
) -> None:
    (tmp_path / "accounts.csv").write_text("username\nalice\n")
    env = {key: value for key, value in os.environ.items() if key != "PERF_TOKEN"}
    path = tmp_path / "scenario.yaml"
    path.write_text(SECRET_SCENARIO)
    done = subprocess.run(
        [PERFCTL, "run", str(path), "--target", echo_target, "--out", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "scenario.yaml:16: journeys.login.steps.0.query.api_key: environment variable " in (
        done.stderr
    )
    assert "PERF_TOKEN is not set" in done.stderr
    assert not (tmp_path / "runs").exists()
    assert _seen(echo_target, "/login") == []


FEEDER_SCENARIO = """\
version: 1
model: closed
sla: false
stages: [{duration: 1s, users: 3}, {duration: 4s, users: 3}]
objectives: [{operation: "*", metric: availability, limit: ">= 0 %"}]
data:
  three_stop: {file: three.csv, on_exhausted: stop}
  three_cycle: {file: three.csv}
  per_user: {file: people.jsonl, strategy: unique, scope: user}
  per_iteration: {file: people.json}
journeys:
  stopper:
    think_time: 0.05s
    data: three_stop
    steps: [{operation: stop, path: "/stop/{name}", headers: {Authorization: "Bearer ${env:PERF_TOKEN}"}}]
  cycler:
    think_time: 0.05s
    data: three_cycle
    steps: [{operation: cycle, path: "/cycle/{name}", headers: {Authorization: "Bearer ${env:PERF_TOKEN}"}}]
  user:
    think_time: 0.05s
    data: per_user
    steps: [{operation: user, path: "/user/{id}", headers: {Authorization: "Bearer ${env:PERF_TOKEN}"}}]
  iteration:
    think_time: 0.05s
    data: per_iteration
    steps: [{operation: iteration, path: "/iteration/{id}", headers: {Authorization: "Bearer ${env:PERF_TOKEN}"}}]
"""


def test_stop_recycle_and_the_scope_of_a_row(tmp_path: Path, echo_target: str) -> None:
    (tmp_path / "three.csv").write_text("name\na\nb\nc\n")
    people = [{"id": index} for index in range(100)]
    (tmp_path / "people.jsonl").write_text("".join(json.dumps(p) + "\n" for p in people))
    (tmp_path / "people.json").write_text(json.dumps(people))
    done = _run(tmp_path, FEEDER_SCENARIO, echo_target, env={"PERF_TOKEN": TOKEN})
    assert done.returncode == 0, done.stderr[-2000:]

    # stop: each row once, in file order, then the journey stops (no failed request)
    assert [record["path"] for record in _seen(echo_target, "/stop/")] == [
        "/stop/a",
        "/stop/b",
        "/stop/c",
    ]
    (notice,) = _events(tmp_path / "runs" / "r1", "data_exhausted")
    assert notice.startswith("data source 'three_stop' ran out in local (all 3 rows used")
    # recycle: round and round the same three rows
    cycled = [record["path"].rsplit("/", 1)[1] for record in _seen(echo_target, "/cycle/")]
    assert len(cycled) > 6
    assert cycled == ["abc"[index % 3] for index in range(len(cycled))]
    # scope user: each of the 3 users keeps the row it drew first
    per_user = Counter(record["path"] for record in _seen(echo_target, "/user/"))
    assert 1 <= len(per_user) <= 3
    assert sum(per_user.values()) > len(per_user)
    # scope iteration: a new row each iteration (in file order)
    per_iteration = [record["path"] for record in _seen(echo_target, "/iteration/")]
    assert len(per_iteration) > 3
    assert per_iteration == [f"/iteration/{index}" for index in range(len(per_iteration))]
    # the report's events table says so
    assert (
        "data source &#39;three_stop&#39; ran out"
        in (tmp_path / "runs" / "r1" / "index.html").read_text()
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "{file: rows.csv, strategy: shuffle}",
            "scenario.yaml:6: data.rows.strategy: input should",
        ),
        ("{file: missing.csv}", "scenario.yaml:6: data.rows.file: missing.csv: no such file"),
        ("{file: ragged.csv}", "scenario.yaml:6: data.rows.file: ragged.csv:3: the row has 2"),
    ],
)
def test_bad_data_sources_are_exit_2_at_their_line(tmp_path: Path, data: str, message: str) -> None:
    (tmp_path / "rows.csv").write_text("name\na\n")
    (tmp_path / "ragged.csv").write_text("name\na\nb,c\n")
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "version: 1\nmodel: closed\nsla: false\nstages: [{duration: 2s, users: 1}]\ndata:\n"
        f"  rows: {data}\njourneys:\n  j:\n    data: rows\n"
        "    steps: [{operation: o, path: '/x/{name}'}]\n"
    )
    done = subprocess.run(
        [PERFCTL, "scenarios", "lint", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
