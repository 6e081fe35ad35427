"""A run's report: `RUN_DIR/index.html`, the verdict first, then why (twelve sections in order).

The page evaluates nothing: with no verdict.json it says "not evaluated". Beside the page it
writes `report.json` (the headline figures the runs index lists) and makes sure the parent
directory holds the one shared `plotly.min.js` the page loads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.report._business_section import business_cards, business_figure
from harness.report._capacity_checks_section import capacity_checks_section
from harness.report._data import RunData, read_run_data
from harness.report._distribution_figures import funnel_figure, journey_figure, spectrum_figure
from harness.report._figures import (
    bin_load,
    errors_figure,
    generator_cpu_figure,
    latency_figure,
    load_figures,
)
from harness.report._html import PLOTLY_FILE, embed, ensure_plotly, render, write_atomically
from harness.report._phases_section import connect_figure, connection_phases, ttfb_figure
from harness.report._plot import Figure
from harness.report._sections import (
    capacity_blocks,
    checks_by_operation,
    funnel,
    headline,
    metadata,
    operation_rows,
    top_errors,
    urgent_checks,
    what_was_run,
    worker_events,
)
from harness.report._series import ALL_REQUESTS, PERCENTILES, RunSeries, build_series
from harness.report._server_section import server_figure
from harness.spec import CONFIDENCE
from harness.timeline import JOURNEY_PREFIX

PAGE_FILE = "index.html"
SUMMARY_FILE = "report.json"
SUMMARY_SCHEMA = 1


class _Figures:
    """Numbers every figure of a page with a unique element id."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, figure: Figure | None) -> dict[str, Any] | None:
        if figure is None:
            return None
        self.count += 1
        return {"id": f"figure-{self.count}", "json": embed(figure)}


_SECTION_LABELS = {
    "latency": "latency plot",
    "connections": "connection phases",
    "load": "load plot",
    "errors": "errors plot",
    "server": "server metrics",
    "metadata": "generator CPU",
    "sla": "SLA checks",
}
"""The words of a diagnosis sentence's link to the section that shows its figures."""


def verdict_label(data: RunData) -> tuple[str, str]:
    """(css status, words) of the banner."""
    if data.verdict is None:
        return "not_evaluated", "NOT EVALUATED"
    if data.verdict.status == "marginal":
        return "marginal", "MARGINAL: TOO CLOSE TO CALL"
    return data.verdict.status, data.verdict.status.upper()


def _judged_note(data: RunData) -> str:
    if data.judged is None:
        return "no span after warm-up"
    start = data.judged.start_t - data.offset_s
    end = data.judged.end_t - data.offset_s
    return f"{start:,.0f} s to {end:,.0f} s, after {data.plan.warmup_s:g} s of warm-up"


def _context(data: RunData, series: RunSeries) -> dict[str, Any]:
    figures = _Figures()
    checks = list(data.verdict.checks) if data.verdict else []
    request_ops = list(data.index.operations)
    latency = []
    without_latency = []
    for op in ([ALL_REQUESTS] if request_ops else []) + request_ops:
        title = "Every request: latency" if op == ALL_REQUESTS else f"{op}: latency"
        series_of_op = series.operations[op]
        if not any(v is not None for v in series_of_op.percentiles_ms[PERCENTILES[0]]):
            without_latency.append(op)  # only connection errors: nothing to draw
            continue
        latency.append(
            figures(latency_figure(op, title, series_of_op, series.x_s, data.plan, checks))
        )
    load = bin_load(data.load, series.bins) if data.load else None
    journeys = {op: total for op, total in series.totals.items() if op.startswith(JOURNEY_PREFIX)}
    requests = {
        op: total
        for op, total in series.totals.items()
        if op != ALL_REQUESTS and not op.startswith(JOURNEY_PREFIX)
    }
    business = business_cards(data.server)
    phases = connection_phases(data, series)
    status, label = verdict_label(data)
    return {
        "version": __version__,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "plotly_src": f"../{PLOTLY_FILE}",
        "run_id": data.record.run_id,
        "run_dir_name": str(data.run_dir),
        "plan": data.plan,
        "verdict": data.verdict,
        "verdict_status": status,
        "verdict_label": label,
        "what_was_run": what_was_run(data),
        "headline": headline(data, series),
        "diagnosis": [
            (finding, _SECTION_LABELS.get(finding.anchor or "", finding.anchor))
            for finding in (data.verdict.diagnosis if data.verdict else ())
        ],
        "urgent": urgent_checks(data),
        "confidence_percent": f"{CONFIDENCE * 100:g} %",
        "checks_by_operation": checks_by_operation(data),
        "capacity_checks": capacity_checks_section(data.verdict, data.run_dir),
        "operations": operation_rows(series.totals, journeys=False),
        "judged_note": _judged_note(data),
        "bin_width": series.bins.width_s,
        "latency_figures": [f for f in latency if f],
        "without_latency": without_latency,
        "phases": phases,
        "connect_figure": figures(connect_figure(data.plan, series.x_s, phases))
        if phases
        else None,
        "ttfb_figure": figures(ttfb_figure(data.plan, series.x_s, phases)) if phases else None,
        "load_figures": [
            figures(f) for f in load_figures(data.plan, series, load, worker_events(data))
        ]
        if series.operations or load
        else [],
        "has_load_samples": bool(data.load),
        "dropped_total": sum(sample.dropped_arrivals for sample in data.load),
        "errors_figure": figures(errors_figure(data.plan, series)),
        "top_errors": top_errors(data),
        "spectrum_figure": figures(
            spectrum_figure(requests, "Latency at every percentile, per operation")
        ),
        "journeys": operation_rows(series.totals, journeys=True),
        "journey_figure": figures(journey_figure(journeys)),
        "funnel_figure": figures(funnel_figure(funnel(data, series))),
        "business": business,
        "business_figure": figures(business_figure(data.server, series)) if business else None,
        "server_figure": figures(server_figure(data.server, series)) if data.server else None,
        "server_info": data.server_info,
        "capacity": capacity_blocks(data.capacity),
        "cpu_figure": figures(generator_cpu_figure(data.plan, series.x_s, load)) if load else None,
        "meta": metadata(data),
        "events": worker_events(data),
        "comparison": data.comparison,
    }


def summary(data: RunData, series: RunSeries) -> dict[str, Any]:
    """report.json: what the runs index shows without reading the timeline again."""
    return {
        "schema": SUMMARY_SCHEMA,
        "run_id": data.record.run_id,
        "scenario": data.plan.scenario,
        "profile": data.plan.profile,
        "target": data.record.target or data.plan.target,
        "started_at": data.record.started_at,
        "duration_s": data.record.duration_s,
        "verdict": data.verdict.status if data.verdict else None,
        "headline": headline(data, series).to_dict(),
    }


def write_run_page(run_dir: Path) -> Path:
    """Render `run_dir/index.html` (and report.json, and the shared plotly.js); its path."""
    data = read_run_data(run_dir)
    series = build_series(data)
    page = render("run.html.j2", **_context(data, series))
    path = run_dir / PAGE_FILE
    write_atomically(path, page)
    write_atomically(run_dir / SUMMARY_FILE, json.dumps(summary(data, series), indent=2) + "\n")
    ensure_plotly(run_dir.resolve().parent)
    if data.comparison is not None:
        from harness.report._compare_page import write_compare_page

        write_compare_page(run_dir, data.comparison)
    return path
