"""The between-run test: its false-positive rate by simulation, and that it finds a shift."""

from __future__ import annotations

import math
import random

import pytest

from harness.compare._between_runs import (
    MIN_BASELINE_RUNS,
    baseline_bands,
    check_figures,
    prediction_band,
)
from harness.rundir import BaselineRun, BaselineSettings, OperationFigures, RunKey

NO_THRESHOLDS = BaselineSettings(
    max_regression=0.0, min_change_ms=0.0, min_error_rate_change=0.0, min_throughput_change_rps=0.0
)
DRAWS = 2000


def _flagged(band_figure: str, baseline: list[float], value: float, level: float) -> bool:
    band = prediction_band("op", band_figure, baseline, level=level, settings=NO_THRESHOLDS)
    if band.direction == "higher_is_worse":
        return value > band.limit
    return value < band.limit


@pytest.mark.parametrize("figure", ["p95_ms", "throughput_rps"])
def test_one_figure_of_the_same_code_is_flagged_at_the_stated_rate(figure: str) -> None:
    """Log-normal run-to-run values (10 baseline runs, 20 % spread): the one-sided prediction
    bound at 5 % is crossed by 5 % of new runs of the same code, either way worse."""
    rng = random.Random(11)
    flagged = 0
    for _ in range(DRAWS):
        baseline = [rng.lognormvariate(math.log(40.0), 0.2) for _ in range(10)]
        flagged += _flagged(figure, baseline, rng.lognormvariate(math.log(40.0), 0.2), 0.05)
    assert abs(flagged / DRAWS - 0.05) < 0.015  # binomial sd ~0.5 point


def test_the_family_of_figures_is_flagged_at_most_one_minus_confidence() -> None:
    """20 figures per run, Bonferroni at 0.05 / 20 each: a run of the same code is flagged on
    any figure about 5 % of the time (independent figures: 1 - (1 - 0.0025)^20 = 4.9 %)."""
    rng = random.Random(5)
    settings = BaselineSettings(
        max_regression=0.0,
        min_change_ms=0.0,
        min_error_rate_change=0.0,
        min_throughput_change_rps=0.0,
        confidence=0.95,
    )
    runs_flagged = 0
    for _ in range(DRAWS // 4):
        runs = [_run(rng, f"r{i}", 20) for i in range(8)]
        new = _run(rng, "new", 20)
        figures = check_figures(runs, baseline_bands(runs, settings), new.operations)
        # p50, error rate and throughput of 20 operations and all requests (p95/p99: too few)
        assert len(figures) == 21 * 3
        runs_flagged += any(figure.regression for figure in figures)
    assert runs_flagged / (DRAWS // 4) < 0.05 + 0.02


def test_a_shift_beyond_the_band_and_both_thresholds_is_always_flagged() -> None:
    rng = random.Random(3)
    runs = [_run(rng, f"r{i}", 3) for i in range(10)]
    bands = baseline_bands(runs, BaselineSettings())
    for _ in range(200):
        new = _run(rng, "slow", 3, slow_ms=5.0)
        flagged = {
            (f.operation, f.figure)
            for f in check_figures(runs, bands, new.operations)
            if f.regression
        }
        assert ("op-0", "p50_ms") in flagged
        assert all(op in ("op-0", "*") for op, _ in flagged)


def test_a_change_within_the_floor_is_not_flagged_however_sure() -> None:
    """A spread of 0.1 % makes any change "significant"; 2.0 -> 2.5 ms is under the 1 ms
    floor, and 2.0 -> 2.15 ms under the 10 % threshold."""
    baseline = [2.0 * (1 + 0.001 * k) for k in range(-5, 5)]
    band = prediction_band("op", "p50_ms", baseline, level=0.01, settings=BaselineSettings())
    assert band.high < 2.1
    assert band.limit == pytest.approx(3.0, rel=0.01)
    settings = BaselineSettings(min_change_ms=0.0)
    relative = prediction_band("op", "p50_ms", baseline, level=0.01, settings=settings)
    assert relative.limit == pytest.approx(2.2, rel=0.01)


def test_an_error_rate_of_zero_in_every_run_is_held_to_the_floor() -> None:
    band = prediction_band("op", "error_rate", [0.0] * 10, level=0.01, settings=BaselineSettings())
    assert (band.low, band.high, band.limit) == (0.0, 0.0, 0.005)


def test_too_few_runs_give_no_band() -> None:
    rng = random.Random(1)
    runs = [_run(rng, f"r{i}", 2) for i in range(MIN_BASELINE_RUNS - 1)]
    assert baseline_bands(runs, BaselineSettings()) == ()
    assert baseline_bands([*runs, _run(rng, "r9", 2)], BaselineSettings())


def _run(rng: random.Random, run_id: str, operations: int, *, slow_ms: float = 0.0) -> BaselineRun:
    """A run's figures: p50 ~2 ms with 5 % run-to-run spread (+`slow_ms` on op-0), 100
    requests per operation (so p95 and p99 are untested), throughput ~50 req/s."""
    figures = {}
    for index in range(operations):
        added = slow_ms if index == 0 else 0.0
        figures[f"op-{index}"] = OperationFigures(
            requests=100,
            failed=0,
            error_rate=0.0,
            throughput_rps=rng.lognormvariate(math.log(50.0), 0.02),
            p50_ms=rng.lognormvariate(math.log(2.0), 0.05) + added,
        )
    # "*" on a one-op scale for the test: a mean of the operations' figures
    figures["*"] = OperationFigures(
        requests=100 * operations,
        failed=0,
        error_rate=0.0,
        throughput_rps=sum(f.throughput_rps for f in figures.values()),
        p50_ms=sum((f.p50_ms or 0.0) for f in figures.values()) / operations,
    )
    return BaselineRun(
        run_id=run_id,
        run_dir="/nowhere",
        started_at="2027-01-15T08:00:00.000Z",
        key=RunKey("s", "p", "embedded"),
        judged_s=60.0,
        operations=figures,
    )
