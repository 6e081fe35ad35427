"""Too close to call: a check whose interval straddles its limit is `marginal`; it passes the
gate unless `--strict` (or the SLA's `defaults.strict`), and it is listed first."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.spec import plan_run
from tests.harness._synthetic_run import SyntheticRun
from tests.harness.spec._support import run_main


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A smoke run of product_search: 40 requests a second, lognormal around 200 ms."""
    rng = np.random.default_rng(7)
    run = SyntheticRun(tmp_path / "run", plan_run("smoke", "smoke"))
    for offset in range(4, 20):
        run.add("product_search", offset, rng.lognormal(np.log(200), 0.4, 40).tolist())
    return run.finish()


def _sla(tmp_path: Path, limit_ms: float, defaults: str = "") -> Path:
    path = tmp_path / "sla.yaml"
    path.write_text(
        f"version: 1\nname: close\n{defaults}objectives:\n"
        "  - {operation: product_search, metric: latency, statistic: p95, "
        f'limit: "< {limit_ms:.3f} ms"}}\n'
        '  - {operation: product_search, metric: error_rate, limit: "< 5 %"}\n'
    )
    return path


def _p95(run_dir: Path, tmp_path: Path) -> dict[str, float]:
    """The p95 check as verdict.json holds it, judged against a limit far above it."""
    outcome = run_main("evaluate", str(run_dir), "--sla", str(_sla(tmp_path, 10_000.0)))
    assert outcome.code == 0, outcome.stderr
    check: dict[str, float] = json.loads((run_dir / "verdict.json").read_text())["checks"][0]
    return check


def test_every_judged_check_carries_its_interval(run_dir: Path, tmp_path: Path) -> None:
    check = _p95(run_dir, tmp_path)
    assert check["status"] == "pass"
    assert check["ci_low"] < check["measured"] < check["ci_high"]
    assert check["confidence"] == 0.95
    assert check["ci_method"] == "order_statistics"
    errors = json.loads((run_dir / "verdict.json").read_text())["checks"][1]
    assert errors["measured"] == 0.0
    assert errors["ci_low"] == 0.0
    assert 0.0 < errors["ci_high"] < 0.01  # 640 requests without an error: below 1 % at 95 %
    assert errors["ci_method"] == "wilson"


@pytest.mark.parametrize("side", ["below", "above"])
def test_a_limit_inside_the_interval_is_too_close_to_call_and_passes_the_gate(
    run_dir: Path, tmp_path: Path, side: str
) -> None:
    check = _p95(run_dir, tmp_path)
    # a limit between the low end and the value: the value fails it, the interval straddles it
    low, high = check["ci_low"], check["ci_high"]
    limit = (low + check["measured"]) / 2 if side == "below" else (check["measured"] + high) / 2
    outcome = run_main("evaluate", str(run_dir), "--sla", str(_sla(tmp_path, limit)))
    assert outcome.code == 0, outcome.stdout
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["status"] == "marginal"
    assert verdict["exit_code"] == 0
    assert verdict["counts"]["marginal"] == 1
    assert verdict["checks"][0]["status"] == "marginal"
    assert "too close to call" in verdict["checks"][0]["message"]
    assert "1 too close to call" in verdict["headline"]
    # the terminal and summary.md list it first, with its interval
    rows = [line.split()[0] for line in outcome.stdout.splitlines() if line.split()[:1]]
    statuses = [word for word in rows if word in ("marginal", "pass", "fail", "warn")]
    assert statuses[0] == "marginal", outcome.stdout
    summary = (run_dir / "summary.md").read_text()
    assert "PASS, TOO CLOSE TO CALL" in summary
    row = next(line for line in summary.splitlines() if line.startswith("| marginal"))
    assert f"\\[{low:,.0f}, {high:,.0f}\\]" in row  # markdown-escaped brackets
    junit = (run_dir / "junit.xml").read_text()
    assert "too close to call: p95 latency: measured" in junit
    assert "<failure" not in junit


@pytest.mark.parametrize(
    ("defaults", "flags", "code"),
    [
        ("", ["--strict"], 1),
        ("defaults: {strict: true}\n", [], 1),
        ("defaults: {strict: true}\n", ["--no-strict"], 0),
    ],
)
def test_strict_fails_a_check_too_close_to_call(
    run_dir: Path, tmp_path: Path, defaults: str, flags: list[str], code: int
) -> None:
    check = _p95(run_dir, tmp_path)
    limit = (check["measured"] + check["ci_high"]) / 2
    sla = _sla(tmp_path, limit, defaults)
    outcome = run_main("evaluate", str(run_dir), "--sla", str(sla), *flags)
    assert outcome.code == code, outcome.stdout
    verdict = json.loads((run_dir / "verdict.json").read_text())
    assert verdict["status"] == "marginal"
    assert verdict["strict"] is (code == 1)


def test_an_interval_clear_of_the_limit_keeps_pass_and_fail(run_dir: Path, tmp_path: Path) -> None:
    check = _p95(run_dir, tmp_path)
    below = run_main(
        "evaluate", str(run_dir), "--sla", str(_sla(tmp_path, check["ci_low"] * 0.99)), "--strict"
    )
    assert below.code == 1
    assert json.loads((run_dir / "verdict.json").read_text())["status"] == "fail"
    above = run_main(
        "evaluate", str(run_dir), "--sla", str(_sla(tmp_path, check["ci_high"] * 1.01)), "--strict"
    )
    assert above.code == 0
    assert json.loads((run_dir / "verdict.json").read_text())["status"] == "pass"


def test_a_windowed_check_reports_the_window_that_was_too_close_to_call(
    tmp_path: Path,
) -> None:
    # every window without an error; the last one (4 s of 6) holds too few requests to show
    # < 2 %: that window makes the check marginal, and the check reports it (not the first
    # window of equal value, whose interval lies well within the limit)
    run = SyntheticRun(tmp_path / "run", plan_run("smoke", "smoke"))
    run.steady("product_search", range(4, 16), 200, 120.0)
    run.steady("product_search", range(16, 20), 8, 120.0)
    sla = tmp_path / "sla.yaml"
    sla.write_text(
        "version: 1\nname: windows\nobjectives:\n"
        "  - {operation: product_search, metric: error_rate, window: 6s, "
        'limit: "< 2 %", min_samples: 20}\n'
    )
    run_dir = run.finish()
    outcome = run_main("evaluate", str(run_dir), "--sla", str(sla))
    assert outcome.code == 0, outcome.stderr
    check = json.loads((run_dir / "verdict.json").read_text())["checks"][0]
    assert check["status"] == "marginal"
    assert check["measured"] == 0.0
    assert check["ci_high"] > 0.02  # the short window's interval, reaching past the limit
    assert "the window at 0:12 (4 s, 32 samples) reads 0 % [0, " in check["message"]
