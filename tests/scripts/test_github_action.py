"""scripts/github_action.py's pieces: the command line it builds, GitHub's output format, the
gate it reports and the summary it appends (the whole step: tests/e2e/test_github_action.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "github_action.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("github_action", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and typing resolve names through it
    spec.loader.exec_module(module)
    return module


action = _load()


def parse_github_output(text: str) -> dict[str, str]:
    """Reads $GITHUB_OUTPUT the way the runner does: `name=value` or `name<<DELIM` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            for body in lines:
                if body == delimiter:
                    break
                value.append(body)
            else:
                raise AssertionError(f"{name}: delimiter {delimiter} never closed")
            outputs[name] = "\n".join(value)
        elif line:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


def test_the_command_passes_only_the_inputs_given() -> None:
    command = action.perfctl_command({"SCENARIO": "smoke", "PROFILE": "", "TARGET": " "}, "perfctl")
    assert command == ["perfctl", "run", "smoke", "--out", "reports"]


def test_every_input_reaches_perfctl_run() -> None:
    inputs = {
        "SCENARIO": "normal",
        "PROFILE": "ci",
        "TARGET": "http://staging:8000",
        "SLA": "perf/sla.yaml",
        "BASELINE": "main",
        "OUT": "perf-reports",
        "ARGS": "--tag 'build=a b' --strict",
    }
    assert action.perfctl_command(inputs, "/venv/bin/perfctl") == [
        "/venv/bin/perfctl", "run", "normal",
        "--profile", "ci",
        "--target", "http://staging:8000",
        "--sla", "perf/sla.yaml",
        "--baseline", "main",
        "--out", "perf-reports",
        "--tag", "build=a b", "--strict",
    ]  # fmt: skip


@pytest.mark.parametrize("baseline", ["", "none", "None", "  "])
def test_no_baseline_policy_passes_no_option(baseline: str) -> None:
    command = action.perfctl_command({"SCENARIO": "smoke", "BASELINE": baseline}, "perfctl")
    assert "--baseline" not in command


def test_a_named_baseline_is_passed_and_updated_on_request() -> None:
    inputs = {"SCENARIO": "smoke", "BASELINE": "main", "BASELINE_UPDATE": "true"}
    command = action.perfctl_command(inputs, "perfctl")
    assert command[3:6] == ["--baseline", "main", "--baseline-update"]
    assert action.baseline_run(inputs) is None


def test_a_baseline_run_directory_is_compared_after_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "run.json").write_text("{}")
    inputs = {"SCENARIO": "smoke", "BASELINE": "base"}
    assert "--baseline" not in action.perfctl_command(inputs, "perfctl")
    assert action.baseline_run(inputs) == Path("base")
    assert action.compare_command("perfctl", Path("base"), Path("reports/r")) == [
        "perfctl", "compare", "base", "reports/r",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "the scenario input is required"),
        ({"SCENARIO": "  "}, "the scenario input is required"),
        ({"SCENARIO": "smoke", "ARGS": "--tag 'open"}, "the args input cannot be split"),
        ({"SCENARIO": "smoke", "BASELINE_UPDATE": "true"}, "baseline-update needs a baseline"),
    ],
)
def test_unusable_inputs_are_refused(inputs: dict[str, str], message: str) -> None:
    with pytest.raises(action.ActionInputError, match=message):
        action.perfctl_command(inputs, "perfctl")


def test_outputs_survive_multi_line_values_and_equals_signs() -> None:
    outputs = {"verdict": "pass", "report": "/a=b/index.html", "note": "line 1\nline 2\n\nend"}
    assert parse_github_output(action.format_outputs(outputs)) == outputs


@pytest.mark.parametrize(
    ("exit_code", "status", "verdict"),
    [
        (0, "pass", "pass"),
        (0, "marginal", "pass"),
        (0, "warn", "pass"),
        (1, "fail", "fail"),
        (1, "aborted", "fail"),
        (3, "inconclusive", "inconclusive"),
        (3, "", "error"),  # the run failed before a verdict
        (2, "", "error"),
        (130, "aborted", "error"),
    ],
)
def test_the_gate_follows_the_exit_code(exit_code: int, status: str, verdict: str) -> None:
    assert action.gate(exit_code, status) == verdict


def test_the_run_directory_is_the_new_one(tmp_path: Path) -> None:
    old = tmp_path / "20261127T055046Z-smoke"
    new = tmp_path / "20261128T055046Z-smoke"
    for run_dir in (old, new, tmp_path / "not-a-run"):
        run_dir.mkdir()
    (old / "run.json").write_text("{}")
    before = action.run_directories(tmp_path)
    (new / "run.json").write_text("{}")
    assert action.new_run_directory(before, action.run_directories(tmp_path)) == new
    assert action.new_run_directory(before, before) is None


def test_the_summary_is_the_runs_summary_and_comparison(tmp_path: Path) -> None:
    (tmp_path / "summary.md").write_text("## perfctl: PASS\n")
    (tmp_path / "compare.md").write_text("## compared with main\n")
    (tmp_path / "verdict.json").write_text(json.dumps({"status": "marginal"}))
    assert action.summary_markdown(tmp_path, 0, []) == (
        "## perfctl: PASS\n\n## compared with main\n"
    )
    assert action.verdict_status(tmp_path) == "marginal"


def test_without_a_run_directory_the_summary_carries_the_error() -> None:
    summary = action.summary_markdown(None, 2, ["error: unknown scenario 'nope'"])
    assert "perfctl exited 2 before it wrote a run directory" in summary
    assert "error: unknown scenario 'nope'" in summary
    assert action.verdict_status(None) == ""


def test_action_yml_passes_every_input_and_declares_every_output() -> None:
    """action.yml and the script agree: each input reaches the step as INPUT_*, each output
    the script writes is declared, and the step runs this script."""
    import yaml

    manifest = yaml.safe_load((SCRIPT.parents[1] / "action.yml").read_text())
    assert manifest["runs"]["using"] == "composite"
    (step,) = [step for step in manifest["runs"]["steps"] if step.get("id") == "run"]
    assert "$GITHUB_ACTION_PATH/scripts/github_action.py" in step["run"]
    assert step["working-directory"] == "${{ inputs.working-directory }}"
    setup_only = {"python-version", "working-directory", "package"}
    assert step["env"] == {
        f"INPUT_{name.upper().replace('-', '_')}": f"${{{{ inputs.{name} }}}}"
        for name in manifest["inputs"]
        if name not in setup_only
    }
    assert manifest["inputs"]["scenario"]["required"] is True
    assert tuple(manifest["outputs"]) == action.OUTPUT_NAMES
    for name, output in manifest["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
