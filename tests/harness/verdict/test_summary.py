"""summary.md renders a run's names literally, whatever they hold: job summaries and wikis
render markdown with HTML allowed."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

from harness.spec._sla import load_sla
from harness.verdict._evaluate import evaluate, read_judged_run
from harness.verdict._summary import render_summary
from tests.harness._synthetic_run import SyntheticRun, simple_plan

HOSTILE = "<img src=x onerror=alert(1)>|`[a](javascript:alert(2))`*b*"


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def test_a_hostile_operation_name_is_shown_never_run(tmp_path: Path) -> None:
    """Issue 10: an `onerror` payload in an operation name ran when summary.md was rendered."""
    plan = simple_plan(scenario="<b>shop</b>", operations=(HOSTILE,))
    run = SyntheticRun(tmp_path / "run", plan).steady(HOSTILE, range(120), 10, 900.0)
    sla_path = tmp_path / "sla.yaml"
    sla_path.write_text(
        "version: 1\nname: t\nobjectives:\n"
        f"  - {{operation: '{HOSTILE}', metric: latency, statistic: p95, limit: '< 300 ms'}}\n"
        "  - {operation: '<script>x</script>', metric: latency, statistic: p95, "
        "limit: '< 300 ms', optional: true}\n"
    )
    verdict = evaluate(read_judged_run(run.finish()), load_sla(sla_path))
    assert {check.status for check in verdict.checks} >= {"fail"}
    html = _html(render_summary(verdict))
    for tag in ("<img", "<script", "<b>", "<a ", "<em>"):
        assert tag not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as written
    assert "&lt;b&gt;shop&lt;/b&gt;" in html
    # the table keeps its seven columns: the pipe inside the name did not split a cell
    assert len(re.findall(r"<th[ >]", html)) == 7
    rows = html.split("<tbody>")[1].split("<tr>")[1:]
    assert rows
    assert all(len(re.findall(r"<td[ >]", row)) == 7 for row in rows)
