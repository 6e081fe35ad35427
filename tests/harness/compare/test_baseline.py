"""Named baselines: what a baseline keeps, what it refuses, and a run judged against it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.compare import (
    add_to_baseline,
    check_against_baseline,
    list_baselines,
    remove_from_baseline,
    render_baseline_check,
    show_baseline,
)
from harness.errors import RunDirError, UsageError
from harness.rundir import read_baseline, read_baseline_check
from tests.harness.compare._baseline_support import judged_run


@pytest.fixture
def five(tmp_path: Path) -> list[Path]:
    """Five passing runs of the same code, a day apart."""
    return [judged_run(tmp_path / "reports", f"run-{i}", seed=i, day=i + 1) for i in range(5)]


def test_a_baseline_keeps_the_newest_passing_runs_with_their_figures(
    tmp_path: Path, five: list[Path]
) -> None:
    directory = tmp_path / "baselines"
    manifest, path = add_to_baseline(directory, "main", five, keep=4)
    assert path == directory / "main.json"
    assert [run.run_id for run in manifest.runs] == ["run-1", "run-2", "run-3", "run-4"]
    assert manifest.key.scenario == "synthetic"
    assert manifest.key.target == "http://127.0.0.1:9"
    search = manifest.runs[0].operations["product_search"]
    assert search.requests == 1200
    assert 6.0 < (search.p50_ms or 0) < 8.5
    assert search.throughput_rps == pytest.approx(20.0)
    assert read_baseline(directory, "main") == manifest
    figures = {(band.operation, band.figure) for band in manifest.bands}
    assert ("product_search", "p95_ms") in figures  # 1,200 requests: p95 tested, p99 not
    assert ("product_search", "p99_ms") not in figures
    assert all(band.level == pytest.approx(0.05 / len(manifest.bands)) for band in manifest.bands)
    assert "main: 4/4 runs, scenario synthetic" in list_baselines(directory)
    shown = show_baseline(directory, "main")
    assert "`run-4`" in shown
    assert "| `product_search` | p50_ms |" in shown


def test_a_failed_or_unjudged_run_or_another_key_is_refused_whole(
    tmp_path: Path, five: list[Path]
) -> None:
    directory = tmp_path / "baselines"
    reports = tmp_path / "reports"
    failed = judged_run(reports, "failed", seed=9, limit_ms=1.0)
    with pytest.raises(UsageError, match=r"its verdict is fail .* passing runs only"):
        add_to_baseline(directory, "main", [*five, failed])
    assert read_baseline(directory, "main") is None  # all or none
    (five[0] / "verdict.json").unlink()
    with pytest.raises(UsageError, match="never judged"):
        add_to_baseline(directory, "main", five[:1])
    add_to_baseline(directory, "main", five[1:])
    other = judged_run(reports, "other", seed=3, scenario="another")
    with pytest.raises(UsageError, match=r"scenario another.* differs from the baseline.s"):
        add_to_baseline(directory, "main", [other])
    with pytest.raises(UsageError, match="baseline name"):
        add_to_baseline(directory, "../escape", five[1:])
    with pytest.raises(UsageError, match="no baseline named 'nope'"):
        show_baseline(directory, "nope")


def test_a_slowed_run_regresses_and_the_same_code_does_not(
    tmp_path: Path, five: list[Path]
) -> None:
    directory = tmp_path / "baselines"
    add_to_baseline(directory, "main", five)
    for path in five:  # the baseline outlives its run directories
        shutil.rmtree(path)
    reports = tmp_path / "reports"
    same = judged_run(reports, "same", seed=20, day=9)
    check = check_against_baseline(directory, "main", same)
    assert check.method == "between_runs"
    assert check.baseline_runs == 5
    assert not check.regression
    assert check.figures_tested >= 10
    slow = judged_run(reports, "slow", seed=21, day=10, added_ms=5.0)
    check = check_against_baseline(directory, "main", slow)
    assert check.regression
    flagged = {(f.operation, f.figure) for f in check.regressions}
    assert ("product_search", "p50_ms") in flagged
    assert {op for op, _ in flagged} <= {"product_search", "*"}
    assert read_baseline_check(slow) == check
    text = (slow / "baseline.md").read_text(encoding="utf-8")
    assert text.startswith("## perfctl baseline `main`: ❌ REGRESSION")
    assert text == render_baseline_check(check)


def test_with_fewer_than_three_runs_the_within_run_test_stands_in(
    tmp_path: Path, five: list[Path]
) -> None:
    directory = tmp_path / "baselines"
    add_to_baseline(directory, "main", five[:2])
    slow = judged_run(tmp_path / "reports", "slow", seed=21, day=10, added_ms=5.0)
    check = check_against_baseline(directory, "main", slow)
    assert check.method == "within_run"
    assert check.compared_with == str(five[1].resolve())
    assert "fewer than 3" in check.note
    assert "run-1" in check.note
    assert check.regression
    compared = json.loads((slow / "compare.json").read_text(encoding="utf-8"))
    assert compared["regression"] is True
    for path in five[:2]:
        shutil.rmtree(path)
    check = check_against_baseline(directory, "main", slow)
    assert check.method == "not_compared"
    assert not check.regression
    assert "no run directory of it is left" in check.note


def test_a_run_is_never_judged_against_itself(tmp_path: Path, five: list[Path]) -> None:
    directory = tmp_path / "baselines"
    add_to_baseline(directory, "main", five[:4])
    check = check_against_baseline(directory, "main", five[3])
    assert check.baseline_runs == 3
    assert check.method == "between_runs"


def test_remove_a_run_or_the_whole_baseline(tmp_path: Path, five: list[Path]) -> None:
    directory = tmp_path / "baselines"
    add_to_baseline(directory, "main", five)
    assert "1 runs removed, 4 left" in remove_from_baseline(directory, "main", ["run-0"])
    manifest = read_baseline(directory, "main")
    assert manifest is not None
    assert len(manifest.runs) == 4
    with pytest.raises(UsageError, match="holds no run 'run-0'"):
        remove_from_baseline(directory, "main", ["run-0"])
    assert "removed (4 runs)" in remove_from_baseline(directory, "main", [])
    assert read_baseline(directory, "main") is None
    assert list_baselines(directory).startswith("no baselines in")


def test_a_corrupt_baseline_names_its_file(tmp_path: Path) -> None:
    directory = tmp_path / "baselines"
    directory.mkdir()
    (directory / "main.json").write_text('{"schema": 1, "name": "main"}')
    with pytest.raises(RunDirError, match=r"main\.json.*key"):
        read_baseline(directory, "main")
