"""`perfctl sla ...` and `perfctl scenarios ...` through the real console script and main()."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.harness.spec._support import REPO, run_main

pytestmark = pytest.mark.parallel_safe

PERFCTL = Path(sys.executable).with_name("perfctl")


def _perfctl(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PERFCTL), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_console_script_lints_the_shipped_sla_against_every_scenario() -> None:
    done = _perfctl("sla", "lint")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("sla.yaml: ok, 63 objectives (")
    assert (
        "operations produced by capacity, endurance, k6-seed, normal, peak, smoke, spike, volume"
        in (done.stdout)
    )


def test_console_script_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "sla.yaml").write_text(
        "name: shop\n"
        "services:\n"
        "  product_search:\n"
        "    latency: {p95: '< 500 kg'}\n"
        "kpis:\n"
        "  cpu: {metric: cpu, limit: '< 70 %', warn: '<= 60 %'}\n"
    )
    done = _perfctl("sla", "lint", "sla.yaml", "--scenario", "smoke", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "error: sla.yaml:4: services.product_search.latency.p95.limit: unit 'kg' does not fit "
        "this metric; use 'ms' or 's', got '< 500 kg'\n"
        "sla.yaml:6: kpis.cpu.warn: warn '<= 60 %' must be looser than limit '< 70 %' "
        "(the same direction and a wider bound)\n"
    )


@pytest.mark.parametrize(
    ("content", "stderr"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "error: sla.yaml: is a binary file, expected YAML text\n"),
        (b"name: caf\xe9\n", "error: sla.yaml:1: is not UTF-8 text (byte 0xe9 at offset 9)\n"),
        (b"", "error: sla.yaml:1: (document): the file is empty, expected a mapping\n"),
    ],
)
def test_console_script_refuses_files_that_are_not_yaml_text(
    tmp_path: Path, content: bytes, stderr: str
) -> None:
    (tmp_path / "sla.yaml").write_bytes(content)
    done = _perfctl("sla", "lint", "sla.yaml", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, stderr)


def test_console_script_refuses_a_directory_and_an_unknown_scenario(tmp_path: Path) -> None:
    done = _perfctl("sla", "lint", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == f"error: {tmp_path}: is a directory, expected a YAML file\n"
    done = _perfctl("scenarios", "show", "nope")
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown scenario 'nope'; known scenarios in ")
    done = _perfctl("scenarios", "show", "normal", "--profile", "huge")
    assert (done.returncode, done.stderr) == (
        2,
        "error: unknown profile 'huge' for scenario 'normal'; profiles: full, ci, demo, perf, smoke\n",
    )


def test_sla_lint_outside_the_checkout_finds_the_installed_files(tmp_path: Path) -> None:
    done = _perfctl("sla", "lint", "-s", "normal", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "; operations produced by normal" in done.stdout


def test_a_copied_sla_and_scenario_directory_are_used_first(tmp_path: Path) -> None:
    shutil.copy(REPO / "sla.yaml", tmp_path / "sla.yaml")
    (tmp_path / "scenarios").mkdir()
    shutil.copy(REPO / "scenarios" / "smoke.yaml", tmp_path / "scenarios" / "mine.yaml")
    shutil.copy(REPO / "scenarios" / "profiles.yaml", tmp_path / "scenarios" / "profiles.yaml")
    done = _perfctl("sla", "lint", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("; operations produced by mine")
    # the copied SLA judges peak and burst throughput in stages `mine` does not have
    assert (
        "warning: sla.yaml:128: api_gateway.throughput.peak: scope 'peak' is no stage of mine; "
        "it will be not_exercised (stages: ramp-up, steady)\n"
    ) in done.stdout


@pytest.fixture
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich tables wrap at 80 columns when not on a terminal; 200 keeps cells on one line."""
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.usefixtures("wide_terminal")
def test_sla_show_prints_objectives_tiers_and_incident_response() -> None:
    outcome = run_main("sla", "show")
    assert outcome.code == 0, outcome.stderr
    for text in (
        "product_search",
        "p95 latency < 500 ms",
        "throughput >= 50000 rps",
        "during peak",
        "<= 1000 ms",
        "abort after 30s",
        "Availability tiers",
        "Critical Services",
        "order_processing, payment_processing",
        "Incident response",
        "Auto-scaling activation",
    ):
        assert text in outcome.stdout


@pytest.mark.usefixtures("wide_terminal")
def test_scenarios_list_names_every_scenario() -> None:
    outcome = run_main("scenarios", "list")
    assert outcome.code == 0, outcome.stderr
    for name in (
        "capacity",
        "endurance",
        "k6-seed",
        "normal",
        "peak",
        "smoke",
        "spike",
        "volume",
    ):
        assert name in outcome.stdout
    assert "10,000 users" in outcome.stdout


@pytest.mark.usefixtures("wide_terminal")
def test_scenarios_show_prints_the_resolved_plan() -> None:
    outcome = run_main("scenarios", "show", "peak", "--profile", "ci")
    assert outcome.code == 0, outcome.stderr
    assert "peak / profile ci: closed model, 1m" in outcome.stdout
    assert "scale users x0.004, rate x0.004, time x0.05556" in outcome.stdout
    assert "0 -> 20" in outcome.stdout
    assert "Throughput limits at load scale x0.004" in outcome.stdout
    assert ">= 200 rps" in outcome.stdout  # api_gateway peak 50,000 rps at 0.4 %


def test_scenarios_lint_plans_every_profile() -> None:
    outcome = run_main("scenarios", "lint")
    assert outcome.code == 0, outcome.stderr
    assert "k6-seed: ok (full, ci, demo, perf, smoke)" in outcome.stdout


def test_schemas_validate_the_shipped_files() -> None:
    sla_outcome = run_main("sla", "schema")
    scenario_outcome = run_main("scenarios", "schema")
    assert (sla_outcome.code, scenario_outcome.code) == (0, 0)
    sla_schema = json.loads(sla_outcome.stdout)
    scenario_schema = json.loads(scenario_outcome.stdout)
    jsonschema.Draft202012Validator.check_schema(sla_schema)
    jsonschema.validate(yaml.safe_load((REPO / "sla.yaml").read_text()), sla_schema)
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        if path.name != "profiles.yaml":
            jsonschema.validate(yaml.safe_load(path.read_text()), scenario_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "servise": {}}, sla_schema)
