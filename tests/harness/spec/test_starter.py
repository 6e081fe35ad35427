"""`perfctl init`: the starter files a team gets, and what it refuses to overwrite."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.spec import DEFAULT_ACTION, _locate
from tests.harness.spec._support import REPO, run_main

WORKFLOW = Path(".github", "workflows", "perf.yml")


def _scenario_files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("*.yaml"))


def test_init_writes_the_shipped_sla_scenarios_and_workflow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = tmp_path / "team"
    outcome = run_main("init", str(team))
    assert outcome.code == 0, outcome.stderr
    assert (team / "sla.yaml").read_text() == (REPO / "sla.yaml").read_text()
    assert _scenario_files(team / "scenarios") == _scenario_files(REPO / "scenarios")
    assert "profiles.yaml" in _scenario_files(team / "scenarios")
    assert f"wrote {team / 'sla.yaml'}" in outcome.stdout
    assert f"wrote {team / WORKFLOW}" in outcome.stdout
    assert f"next: cd {team} && perfctl run smoke --profile smoke" in outcome.stdout
    # what it wrote is a valid SLA for the scenarios it wrote
    monkeypatch.chdir(team)
    lint = run_main("sla", "lint")
    assert lint.code == 0, lint.stderr


def test_the_workflow_uses_the_action_and_keeps_the_run_directory(tmp_path: Path) -> None:
    assert run_main("init", str(tmp_path)).code == 0
    workflow = yaml.safe_load((tmp_path / WORKFLOW).read_text())
    steps = workflow["jobs"]["perf"]["steps"]
    perf = next(step for step in steps if step.get("id") == "perf")
    assert perf["uses"] == DEFAULT_ACTION
    assert perf["with"] == {"scenario": "smoke", "profile": "smoke"}
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload-art"))
    assert upload["with"]["path"] == "${{ steps.perf.outputs.run-dir }}"
    assert "always()" in upload["if"]  # kept when the gate failed the job


def test_the_action_option_names_the_action_used(tmp_path: Path) -> None:
    outcome = run_main("init", str(tmp_path), "--action", "acme/perfctl@v0.1.0")
    assert outcome.code == 0, outcome.stderr
    workflow = (tmp_path / WORKFLOW).read_text()
    assert "uses: acme/perfctl@v0.1.0" in workflow
    assert DEFAULT_ACTION not in workflow


def test_the_current_directory_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    outcome = run_main("init")
    assert outcome.code == 0, outcome.stderr
    assert (tmp_path / "sla.yaml").is_file()
    assert "next: perfctl run smoke --profile smoke" in outcome.stdout


def test_an_existing_file_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "smoke.yaml").write_text("# ours\n")
    outcome = run_main("init", str(tmp_path))
    assert outcome.code == 2
    assert outcome.stderr == (
        f"error: {tmp_path / 'scenarios' / 'smoke.yaml'} already exists; "
        "perfctl init --force overwrites it\n"
    )
    assert (tmp_path / "scenarios" / "smoke.yaml").read_text() == "# ours\n"
    assert not (tmp_path / "sla.yaml").exists()
    assert not (tmp_path / ".github").exists()


def test_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / "sla.yaml").write_text("# ours\n")
    outcome = run_main("init", str(tmp_path), "--force")
    assert outcome.code == 0, outcome.stderr
    assert (tmp_path / "sla.yaml").read_text() == (REPO / "sla.yaml").read_text()


@pytest.mark.parametrize(
    ("layout", "args", "message"),
    [
        ("file:team", ("team",), "team: not a directory"),
        ("file:team/scenarios", ("team",), "team/scenarios is a file; perfctl init needs a dir"),
        ("dir:team/sla.yaml", ("team", "--force"), "team/sla.yaml is a directory"),
        ("", ("team", "--action", "not an action"), "--action must be OWNER/REPO@REF or ./PATH"),
        ("", ("team", "--action", "acme/perfctl"), "--action must be OWNER/REPO@REF"),
    ],
)
def test_what_cannot_be_written_is_a_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    layout: str,
    args: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if layout:
        kind, path = layout.split(":")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).mkdir() if kind == "dir" else Path(path).write_text("x")
    outcome = run_main("init", *args)
    assert outcome.code == 2
    assert outcome.stderr.startswith(f"error: {message}")
    assert outcome.stderr.count("\n") == 1
    assert not Path("team", ".github").exists()


def test_an_installed_perfctl_falls_back_to_the_wheels_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside a checkout (a wheel in site-packages) the defaults are the shipped examples."""
    site = tmp_path / "site-packages"
    shipped = site / "harness" / "spec" / "shipped"
    (shipped / "scenarios").mkdir(parents=True)
    (shipped / "sla.yaml").write_text("# shipped\n")
    monkeypatch.setattr(_locate, "_CHECKOUT", site)
    monkeypatch.setattr(_locate, "SHIPPED_DIR", shipped)
    team = tmp_path / "team"
    team.mkdir()
    monkeypatch.chdir(team)
    assert _locate.shipped_root() == shipped
    assert _locate.find_project_file("sla.yaml") == shipped / "sla.yaml"
    assert _locate.scenarios_dir() == shipped / "scenarios"
    (team / "sla.yaml").write_text("# the team's\n")
    assert _locate.find_project_file("sla.yaml") == Path("sla.yaml")
