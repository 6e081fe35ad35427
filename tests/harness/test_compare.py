"""perfctl compare finds real regressions and not noise."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness.compare import compare_runs, parse_percent, render_markdown
from harness.errors import UsageError
from tests.harness._synthetic_run import SyntheticRun, simple_plan


def _run(path: Path, seed: int, factor: float = 1.0, errors_per_s: int = 0) -> Path:
    rng = random.Random(seed)
    run = SyntheticRun(path, simple_plan(operations=("search", "checkout")))
    for offset in range(120):
        run.add("search", offset, [rng.lognormvariate(4.0, 0.4) * factor for _ in range(30)])
        run.add("checkout", offset, [rng.lognormvariate(5.0, 0.3) for _ in range(10)])
        if errors_per_s:
            run.add("checkout", offset, [50.0] * errors_per_s, "http_5xx")
    return run.finish()


def _by_key(comparison: object) -> dict[tuple[str, str], object]:
    return {(c.operation, c.figure): c for c in comparison.changes}  # type: ignore[attr-defined]


def test_same_load_twice_is_no_regression(tmp_path: Path) -> None:
    comparison = compare_runs(
        _run(tmp_path / "a", 1), _run(tmp_path / "b", 2), max_regression=0.10, confidence=0.95
    )
    assert comparison.regressions == ()
    assert "NO REGRESSION" in render_markdown(comparison)


def test_injected_latency_is_a_regression_on_that_operation_only(tmp_path: Path) -> None:
    comparison = compare_runs(
        _run(tmp_path / "a", 1),
        _run(tmp_path / "b", 2, factor=1.3),
        max_regression=0.10,
        confidence=0.95,
    )
    changes = _by_key(comparison)
    p95 = changes[("search", "p95_ms")]
    assert p95.regression  # type: ignore[attr-defined]
    assert p95.relative == pytest.approx(0.3, abs=0.06)  # type: ignore[attr-defined]
    assert not changes[("checkout", "p95_ms")].regression  # type: ignore[attr-defined]


def test_a_significant_change_below_the_threshold_is_not_a_regression(tmp_path: Path) -> None:
    comparison = compare_runs(
        _run(tmp_path / "a", 1),
        _run(tmp_path / "b", 2, factor=1.3),
        max_regression=0.50,
        confidence=0.95,
    )
    assert comparison.regressions == ()


def test_new_errors_are_a_regression(tmp_path: Path) -> None:
    comparison = compare_runs(
        _run(tmp_path / "a", 1),
        _run(tmp_path / "b", 1, errors_per_s=2),
        max_regression=0.10,
        confidence=0.95,
    )
    assert _by_key(comparison)[("checkout", "error_rate")].regression  # type: ignore[attr-defined]


@pytest.mark.parametrize(("text", "value"), [("10%", 0.10), ("10", 0.10), ("2.5 %", 0.025)])
def test_max_regression_reads_percentages(text: str, value: float) -> None:
    assert parse_percent(text, "--max-regression") == pytest.approx(value)


@pytest.mark.parametrize("text", ["ten", "-5%", "nan"])
def test_max_regression_rejects_nonsense(text: str) -> None:
    with pytest.raises(UsageError, match="--max-regression"):
        parse_percent(text, "--max-regression")
