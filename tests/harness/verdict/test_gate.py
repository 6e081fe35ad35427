"""`perfctl evaluate` applies the cross-checks `perfctl run` makes: an SLA that can never be
judged on the run is a spec error (exit 2), never a pass beside a silent not_exercised."""

from __future__ import annotations

from pathlib import Path

from harness.spec import plan_run
from tests.harness._synthetic_run import SyntheticRun
from tests.harness.spec._support import run_main

SLA = """version: 1
name: gate
objectives:
  - {operation: product_search, metric: latency, statistic: p95, limit: "< 300 ms"}
"""


def _smoke_run(tmp_path: Path) -> Path:
    run = SyntheticRun(tmp_path / "run", plan_run("smoke", "smoke"))
    return run.steady("product_search", range(4, 20), 10, 50.0).finish()


def _sla(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "sla.yaml"
    path.write_text(SLA + extra)
    return path


def test_the_sla_alone_passes(tmp_path: Path) -> None:
    outcome = run_main("evaluate", str(_smoke_run(tmp_path)), "--sla", str(_sla(tmp_path, "")))
    assert outcome.code == 0, outcome.stderr


def test_a_misspelt_operation_is_exit_2_naming_the_closest(tmp_path: Path) -> None:
    """Issue 10: `prodcut_search` beside a valid objective was PASS, exit 0, even --strict."""
    run_dir = _smoke_run(tmp_path)
    sla = _sla(
        tmp_path,
        '  - {operation: prodcut_search, metric: latency, statistic: p95, limit: "< 300 ms"}\n',
    )
    outcome = run_main("evaluate", str(run_dir), "--sla", str(sla), "--strict")
    assert outcome.code == 2, outcome.stdout
    assert outcome.stderr.startswith(f"error: {sla}:5: prodcut_search.latency.p95: ")
    assert "operation 'prodcut_search' is not produced by scenario 'smoke'" in outcome.stderr
    assert "closest: 'product_search'" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert not (run_dir / "verdict.json").exists()


def test_an_unknown_scope_is_exit_2(tmp_path: Path) -> None:
    run_dir = _smoke_run(tmp_path)
    sla = _sla(
        tmp_path,
        '  - {operation: "*", metric: latency, statistic: p95, limit: "< 300 ms", scope: stedy}\n',
    )
    outcome = run_main("evaluate", str(run_dir), "--sla", str(sla))
    assert outcome.code == 2
    assert "scope 'stedy' is no stage of any scenario" in outcome.stderr
    assert "closest: 'steady'" in outcome.stderr


def test_an_optional_objective_may_name_an_operation_the_run_lacks(tmp_path: Path) -> None:
    run_dir = _smoke_run(tmp_path)
    sla = _sla(
        tmp_path,
        "  - {operation: other_op, metric: latency, statistic: p95, limit: '< 300 ms', "
        "optional: true}\n",
    )
    outcome = run_main("evaluate", str(run_dir), "--sla", str(sla))
    assert outcome.code == 0, outcome.stderr
