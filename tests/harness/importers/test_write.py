"""`write_imported`: the files land only when they load as a run loads them, and never over
an existing file unless forced."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.importers import import_har, import_openapi, write_imported
from harness.spec import check_against, load_scenario, load_sla, plan_run
from tests.harness.importers._support import BOOKSHOP_OPENAPI, SHOP_HAR


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorded secrets' variables, as a person running the scenario sets them."""
    monkeypatch.setenv("API_TOKEN", "test-token")
    monkeypatch.setenv("X_PARTNER_KEY", "test-key")
    monkeypatch.setenv("PASSWORD", "test-password")


@pytest.mark.usefixtures("token")
@pytest.mark.parametrize(
    "imported",
    [import_har(str(SHOP_HAR)), import_openapi(str(BOOKSHOP_OPENAPI))],
    ids=["har", "openapi"],
)
def test_the_written_files_load_plan_and_cross_check(imported: object, tmp_path: Path) -> None:
    scenario_path, sla_path = tmp_path / "out" / "x.yaml", tmp_path / "out" / "sla.yaml"

    summary = write_imported(imported, out=scenario_path, sla_out=sla_path)  # type: ignore[arg-type]

    scenario = load_scenario(scenario_path)
    assert set(scenario.profile_names) >= {"full", "smoke", "ci"}
    smoke = plan_run(scenario, "smoke")
    assert smoke.duration_s == pytest.approx(20)
    objectives = check_against(load_sla(sla_path), scenario)
    operations = {o.operation for o in objectives} - {"*"}
    assert operations == {op.name for op in imported.sla.operations}  # type: ignore[attr-defined]
    assert summary.splitlines()[0].startswith(f"scenario: {scenario_path}")
    assert f"next: perfctl run {scenario_path} --sla {sla_path}" in summary


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    imported = import_openapi(str(BOOKSHOP_OPENAPI))
    scenario_path, sla_path = tmp_path / "s.yaml", tmp_path / "sla.yaml"
    sla_path.write_text("mine\n")

    with pytest.raises(
        UsageError, match=r"sla\.yaml exists; pass --force to overwrite it, or --sla-out"
    ):
        write_imported(imported, out=scenario_path, sla_out=sla_path)
    assert sla_path.read_text() == "mine\n"
    assert not scenario_path.exists()

    write_imported(imported, out=scenario_path, sla_out=sla_path, force=True)
    assert sla_path.read_text().startswith("# Starter SLA")


def test_the_default_paths_are_scenarios_name_yaml_and_sla_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    write_imported(import_openapi(str(BOOKSHOP_OPENAPI)))

    assert (tmp_path / "scenarios" / "bookshop_api.yaml").is_file()
    assert (tmp_path / "sla.yaml").is_file()


@pytest.mark.parametrize(
    ("out", "sla_out", "message"),
    [
        ("s.txt", "sla.yaml", r"--out .*s\.txt: a scenario file ends in \.yaml"),
        ("same.yaml", "same.yaml", r"--out and --sla-out are the same file"),
    ],
)
def test_bad_output_paths(tmp_path: Path, out: str, sla_out: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        write_imported(
            import_openapi(str(BOOKSHOP_OPENAPI)), out=tmp_path / out, sla_out=tmp_path / sla_out
        )
    assert list(tmp_path.iterdir()) == []


def test_the_files_are_written_before_the_secrets_are_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PASSWORD", raising=False)

    write_imported(
        import_har(str(SHOP_HAR)), out=tmp_path / "s.yaml", sla_out=tmp_path / "sla.yaml"
    )

    assert 'password: "${env:PASSWORD}"' in (tmp_path / "s.yaml").read_text()
    assert "PASSWORD" not in os.environ
