"""`perfctl run --target` with credentials and a path prefix, through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.engine import ENGINE_LOCUSTFILE
from tests.e2e._auth_target import auth_target

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
USER = "bob"
PASSWORD = "s3cr3t-Pa55-h1"
PREFIX = "/shop"

SCENARIO = """\
version: 1
title: Behind auth
description: Two users on one flow step for a few seconds.
model: closed
stages:
  - {name: steady, duration: 4s, users: 2}
sla: false
journeys:
  items:
    think_time: 50ms
    steps:
      - {operation: items, method: GET, path: /items}
objectives:
  - {operation: items, metric: error_rate, limit: "< 1 %"}
"""


@pytest.mark.skipif(not ENGINE_LOCUSTFILE.is_file(), reason="the engine is not there")
def test_credentials_and_a_path_prefix_reach_every_request_and_no_file_keeps_the_password(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "auth.yaml"
    scenario.write_text(SCENARIO)
    with auth_target(USER, PASSWORD, PREFIX) as target:
        url = target.url.replace("http://", f"http://{USER}:{PASSWORD}@") + PREFIX + "/"
        done = subprocess.run(
            [
                PERFCTL,
                "run",
                str(scenario),
                "--target",
                url,
                "--out",
                str(tmp_path / "reports"),
                "--run-id",
                "auth",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
        )
        seen = dict(target.seen)
    assert done.returncode == 0, done.stdout + done.stderr
    # every load request went to the prefixed path with the credentials, none without them
    assert seen.get((f"{PREFIX}/items", True), 0) > 10
    assert not [key for key in seen if not key[1]]
    assert not [path for path, _ in seen if not path.startswith(PREFIX)]
    run_dir = tmp_path / "reports" / "auth"
    timeline = [json.loads(line) for line in (run_dir / "timeline.jsonl").open()]
    counts = [line["counts"] for line in timeline if line["op"] == "items"]
    assert sum(count["ok"] for count in counts) > 10
    assert sum(sum(count.values()) - count["ok"] for count in counts) == 0
    # the password is nowhere: not in any file of the run directory, not on the terminal
    files = [path for path in run_dir.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"run.json", "plan.json", "verdict.json", "index.html"}
    leaks = [path for path in files if PASSWORD.encode() in path.read_bytes()]
    assert leaks == []
    assert PASSWORD not in done.stdout + done.stderr
    record = json.loads((run_dir / "run.json").read_text())
    assert record["target"] == target.url + PREFIX
