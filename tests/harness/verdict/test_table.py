"""The terminal table stays readable in a CI log's 80 columns: every check named whole, its
value and interval, its limit and windows."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from harness.verdict._gate import judge_run_dir
from harness.verdict._table import print_verdict
from tests.harness._synthetic_run import SyntheticRun, simple_plan

SLA = """version: 1
name: test
objectives:
  - {operation: checkout, metric: latency, statistic: p95, limit: "< 300 ms"}
  - {operation: checkout, metric: availability, limit: ">= 99 %"}
  - {operation: checkout, metric: error_rate, limit: "< 1 %"}
"""


def test_every_check_reads_whole_in_80_columns(tmp_path: Path) -> None:
    run = SyntheticRun(tmp_path / "run", simple_plan()).steady("checkout", range(120), 10, 900.0)
    sla = tmp_path / "sla.yaml"
    sla.write_text(SLA)
    verdict = judge_run_dir(run.finish(), sla_path=sla, find_capacity=False)
    console = Console(record=True, width=80)
    print_verdict(verdict, console)
    table = console.export_text().split("verdict:")[0]
    assert max(len(line.rstrip()) for line in table.splitlines()) <= 80
    for check in verdict.checks:
        row = next(line for line in table.splitlines() if check.id in line)
        assert check.status in row
    assert "[900, 900]" in table  # p95 of 900 ms samples, with its interval
    assert "< 300 ms" in table
    assert "0/1" in table
