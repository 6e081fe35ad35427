"""`perfctl baseline add/list/show/remove/check` through the installed console script, and the
usage errors of `perfctl run --baseline` found before any load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.compare._baseline_support import judged_run

pytestmark = pytest.mark.parallel_safe

PERFCTL = str(Path(sys.executable).with_name("perfctl"))


def _perfctl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PERFCTL, *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("baseline") / "reports"
    for day in range(1, 6):
        judged_run(parent, f"run-{day}", seed=day, day=day)
    judged_run(parent, "slow", seed=9, day=6, added_ms=20.0)
    judged_run(parent, "failed", seed=8, day=7, limit_ms=1.0)
    judged_run(parent, "other", seed=7, day=8, scenario="another")
    return parent


def test_add_list_show_check_remove(reports: Path, tmp_path: Path) -> None:
    directory = str(tmp_path / "baselines")
    runs = [str(reports / f"run-{day}") for day in range(1, 6)]
    added = _perfctl("baseline", "add", "main", *runs, "--dir", directory, "--keep", "4")
    assert added.returncode == 0, added.stderr
    assert "baseline main: 4 runs (scenario synthetic, profile test" in added.stdout
    listed = _perfctl("baseline", "list", "--dir", directory)
    assert listed.returncode == 0
    assert listed.stdout.startswith("main: 4/4 runs")
    assert "newest run-5" in listed.stdout
    shown = _perfctl("baseline", "show", "main", "--dir", directory)
    assert shown.returncode == 0
    assert "`run-2`" in shown.stdout
    assert "`run-1`" not in shown.stdout  # the oldest of five, beyond --keep 4
    assert "| `product_search` | p50_ms |" in shown.stdout
    same = _perfctl("baseline", "check", "main", runs[-1], "--dir", directory)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "NO REGRESSION" in same.stdout
    slow = _perfctl("baseline", "check", "main", str(reports / "slow"), "--dir", directory)
    assert slow.returncode == 1, slow.stdout + slow.stderr
    assert "❌ REGRESSION" in slow.stdout
    check = json.loads((reports / "slow" / "baseline.json").read_text(encoding="utf-8"))
    assert check["method"] == "between_runs"
    assert ["product_search", "p50_ms"] in [
        [f["operation"], f["figure"]] for f in check["figures"] if f["regression"]
    ]
    removed = _perfctl("baseline", "remove", "main", "--dir", directory)
    assert removed.returncode == 0
    assert "baseline main removed (4 runs)" in removed.stdout
    assert _perfctl("baseline", "list", "--dir", directory).stdout.startswith("no baselines")


def test_the_baseline_directory_comes_from_the_environment(reports: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "cached"
    result = subprocess.run(
        [PERFCTL, "baseline", "add", "ci", str(reports / "run-1")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PERFCTL_BASELINE_DIR": str(env_dir)},
    )
    assert result.returncode == 0, result.stderr
    assert (env_dir / "ci.json").is_file()


def test_bad_input_is_one_line_and_exit_2(reports: Path, tmp_path: Path) -> None:
    directory = str(tmp_path / "baselines")
    failed = _one_line_error(
        _perfctl("baseline", "add", "main", str(reports / "failed"), "--dir", directory)
    )
    assert "its verdict is fail" in failed
    assert not (tmp_path / "baselines" / "main.json").exists()
    assert (
        _perfctl("baseline", "add", "main", str(reports / "run-1"), "--dir", directory).returncode
        == 0
    )
    other = _one_line_error(
        _perfctl("baseline", "add", "main", str(reports / "other"), "--dir", directory)
    )
    assert "scenario another" in other
    assert "differs from the baseline's scenario synthetic" in other
    unknown = _one_line_error(_perfctl("baseline", "show", "nope", "--dir", directory))
    assert "no baseline named 'nope'" in unknown
    assert "baselines there: main" in unknown
    assert "a baseline name is" in _one_line_error(
        _perfctl("baseline", "add", "../up", str(reports / "run-1"), "--dir", directory)
    )
    assert "holds no run 'run-9'" in _one_line_error(
        _perfctl("baseline", "remove", "main", "run-9", "--dir", directory)
    )
    mismatch = _one_line_error(
        _perfctl("baseline", "check", "main", str(reports / "other"), "--dir", directory)
    )
    assert "cannot be compared with baseline main" in mismatch


def test_run_refuses_a_missing_baseline_before_any_load(tmp_path: Path) -> None:
    missing = _one_line_error(
        _perfctl("run", "smoke", "--profile", "smoke", "--baseline", "main", "--out", str(tmp_path))
    )
    assert "no baseline named 'main'" in missing
    update_alone = _one_line_error(
        _perfctl("run", "smoke", "--profile", "smoke", "--baseline-update", "--out", str(tmp_path))
    )
    assert "--baseline-update needs --baseline NAME" in update_alone
    assert list(tmp_path.iterdir()) == []  # no run directory: nothing ran
