"""The GitHub Action's step (scripts/github_action.py, what action.yml runs) end to end, with
no GitHub: fake $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT files, the inputs as the action passes
them (INPUT_*), perfctl for real against the reference backend. A job relies on the step's exit
code (perfctl's gate), its outputs and the summary it appends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.scripts.test_github_action import parse_github_output

pytestmark = pytest.mark.parallel_safe

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "github_action.py"

QUICK_SCENARIO = """\
version: 1
model: closed
stages:
  - {name: steady, duration: 6s, users: 3}
journeys:
  browse: {weight: 1}
"""

SLA_TEMPLATE = """\
version: 1
name: {name}
objectives:
  - {{operation: "*", metric: latency, statistic: max, limit: "{limit}", window: run, min_samples: 1}}
"""
IMPOSSIBLE_SLA = SLA_TEMPLATE.format(name="impossible", limit="< 0.001 ms")
LENIENT_SLA = SLA_TEMPLATE.format(name="lenient", limit="< 60 s")

EARLIER_SUMMARY = "## an earlier step\n\n"
EARLIER_OUTPUT = "earlier=kept\n"


@dataclass(frozen=True, slots=True)
class Step:
    """What the step did: its exit code, its outputs and the job summary after it."""

    code: int
    outputs: dict[str, str]
    summary: str
    log: str


def run_step(workdir: Path, inputs: Mapping[str, str]) -> Step:
    """Runs the step the way action.yml does: INPUT_* variables, in the working directory,
    with GitHub's files holding what earlier steps wrote."""
    github = Path(tempfile.mkdtemp(prefix="github-", dir=workdir.parent))
    summary, output = github / "step_summary.md", github / "output"
    summary.write_text(EARLIER_SUMMARY)
    output.write_text(EARLIER_OUTPUT)
    env = {name: value for name, value in os.environ.items() if not name.startswith("INPUT_")}
    env |= {f"INPUT_{name}": value for name, value in inputs.items()}
    env |= {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    outputs = parse_github_output(output.read_text())
    assert outputs.pop("earlier") == "kept"  # appended, not overwritten
    text = summary.read_text()
    assert text.startswith(EARLIER_SUMMARY)
    return Step(done.returncode, outputs, text[len(EARLIER_SUMMARY) :], done.stdout + done.stderr)


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """A team's repository as `perfctl init` leaves it, plus a 6-second scenario and two SLAs."""
    directory = tmp_path / "team"
    init = subprocess.run(
        [str(Path(sys.executable).with_name("perfctl")), "init", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    (directory / "scenarios" / "quick.yaml").write_text(QUICK_SCENARIO)
    (directory / "impossible-sla.yaml").write_text(IMPOSSIBLE_SLA)
    (directory / "lenient-sla.yaml").write_text(LENIENT_SLA)
    return directory


def _assert_run_outputs(step: Step, workdir: Path) -> Path:
    run_dir = Path(step.outputs["run-dir"])
    assert run_dir.is_absolute()
    assert run_dir.parent == (workdir / "reports").resolve()
    assert step.outputs["report"] == str(run_dir / "index.html")
    assert (run_dir / "index.html").is_file()
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert step.outputs["status"] == verdict["status"]
    assert step.outputs["exit-code"] == str(step.code) == str(verdict["exit_code"])
    assert (run_dir / "summary.md").read_text().rstrip() in step.summary
    return run_dir


def test_a_passing_smoke_run_passes_the_step(team: Path, backend_url: str) -> None:
    step = run_step(team, {"SCENARIO": "smoke", "PROFILE": "smoke", "TARGET": backend_url})
    assert step.code == 0, step.log[-3000:]
    assert step.outputs["verdict"] == "pass"
    assert step.outputs["status"] in ("pass", "warn", "marginal")
    run_dir = _assert_run_outputs(step, team)
    assert run_dir.name.endswith("-smoke")
    assert "perfctl run smoke --profile smoke --target" in step.log  # the command, in the log


def test_a_failed_objective_fails_the_step(team: Path, backend_url: str) -> None:
    step = run_step(
        team,
        {
            "SCENARIO": "quick",
            "TARGET": backend_url,
            "SLA": "impossible-sla.yaml",
            "ARGS": "--tag build=gh-1 --quiet",
        },
    )
    assert step.code == 1, step.log[-3000:]
    assert step.outputs["verdict"] == "fail"
    assert step.outputs["status"] == "fail"
    run_dir = _assert_run_outputs(step, team)
    assert json.loads((run_dir / "run.json").read_text())["tags"] == {"build": "gh-1"}


def test_a_baseline_run_directory_is_compared(team: Path, backend_url: str) -> None:
    common = {"SCENARIO": "quick", "TARGET": backend_url, "SLA": "lenient-sla.yaml"}
    first = run_step(team, {**common, "OUT": "main-runs"})
    assert first.code == 0, first.log[-3000:]
    baseline = Path(first.outputs["run-dir"])
    step = run_step(team, {**common, "BASELINE": str(baseline)})
    run_dir = _assert_run_outputs(step, team) if step.code == 0 else Path(step.outputs["run-dir"])
    comparison = json.loads((run_dir / "compare.json").read_text())
    # the gate is the comparison's: a passing run fails on a regression
    assert step.code == (1 if comparison["regression"] else 0), step.log[-3000:]
    assert f"perfctl compare {baseline} " in step.log
    assert (run_dir / "compare.md").read_text().rstrip() in step.summary


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"SCENARIO": "nope"}, "error: unknown scenario 'nope'"),
        ({"SCENARIO": "smoke", "PROFILE": "nope"}, "unknown profile 'nope'"),
        ({"SCENARIO": ""}, "error: the scenario input is required"),
        ({"SCENARIO": "smoke", "ARGS": "--bogus"}, "No such option: --bogus"),
    ],
)
def test_bad_input_is_exit_2_with_the_error_in_the_summary(
    team: Path, inputs: dict[str, str], message: str
) -> None:
    step = run_step(team, inputs)
    assert step.code == 2, step.log
    assert step.outputs == {
        "verdict": "error",
        "status": "",
        "exit-code": "2",
        "report": "",
        "run-dir": "",
    }
    assert "no verdict" in step.summary
    assert message in step.summary
    assert not (team / "reports").exists()
