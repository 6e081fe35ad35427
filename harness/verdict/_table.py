"""The verdict as a table at the terminal (rich)."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.spec import CONFIDENCE
from harness.verdict._coverage import UNJUDGED_STATUSES, OutOfScope
from harness.verdict._format import (
    format_limit,
    format_measured,
    format_value,
    format_windows,
)
from harness.verdict._model import CHECK_STATUSES, Check, Verdict

_STYLE = {
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
    "marginal": "bold cyan",
    "not_exercised": "dim",
    "no_data": "dim",
    "inconclusive": "magenta",
    "aborted": "bold red",
}
_ATTENTION = ("marginal", "fail", "warn", "inconclusive")


def _table(checks: list[Check], title: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("status", no_wrap=True)
    table.add_column("check", overflow="fold", min_width=16, ratio=3)
    table.add_column("sev.", no_wrap=True)
    # the interval on its own line: the table must stay readable in 80 columns (CI logs)
    table.add_column(f"measured\n[{CONFIDENCE * 100:g} % interval]", justify="right", no_wrap=True)
    table.add_column("limit", overflow="fold", min_width=8, ratio=1)
    table.add_column("win.", no_wrap=True)
    for check in checks:
        table.add_row(
            Text(check.status, style=_STYLE[check.status]),
            Text(check.id),
            check.severity,
            format_measured(check, separator="\n"),
            format_limit(check),
            format_windows(check),
        )
    return table


def print_capacity_checks(checks: Sequence[Check], console: Console, title: str) -> None:
    """Checks judged from a capacity search, under their own heading: the capacity at the
    scaling row's max instances against the figure, the instances it needs, the margin."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("status", no_wrap=True)
    table.add_column("check", overflow="fold", min_width=16, ratio=3)
    table.add_column("rps/inst.", justify="right", no_wrap=True)
    table.add_column("at max", justify="right", no_wrap=True)
    table.add_column("limit", overflow="fold", min_width=10, ratio=2)
    table.add_column("needs/max", justify="right", no_wrap=True)
    table.add_column("margin", justify="right", no_wrap=True)
    for check in checks:
        basis = check.basis or {}
        per = basis.get("rps_per_instance", basis.get("knee_rps"))
        needed = basis.get("instances_needed")
        most = basis.get("max_instances")
        margin = basis.get("margin")
        table.add_row(
            Text(check.status, style=_STYLE[check.status]),
            Text(check.id),
            format_value(per, "rps") if per is not None else "—",
            format_value(check.measured, check.unit),
            format_limit(check),
            f"{needed if needed is not None else '∞'}/{most}" if most is not None else "—",
            f"{margin:+.0%}" if margin is not None else "—",
        )
    console.print(table)


def print_verdict(verdict: Verdict, console: Console, *, all_checks: bool = True) -> None:
    """The checks (every one, or those that need attention), the overall verdict, its
    diagnosis (ranked sentences), its reasons.
    Checks judged from a capacity search come under their own heading."""
    order = {status: index for index, status in enumerate(CHECK_STATUSES)}
    from_capacity = [check for check in verdict.checks if check.judged_by == "capacity"]
    if from_capacity:
        print_capacity_checks(
            from_capacity,
            console,
            f"Throughput judged from capacity run {verdict.capacity_run} ({len(from_capacity)})",
        )
    checks = sorted(
        (check for check in verdict.checks if check.judged_by != "capacity"),
        key=lambda check: order[check.status],
    )
    shown = checks if all_checks else [c for c in checks if c.status in _ATTENTION]
    if shown:
        title = f"SLA checks ({len(checks)})" if all_checks else "Checks that need attention"
        console.print(_table(shown, title))
    if not all_checks:
        uncovered = [c for c in checks if c.status in UNJUDGED_STATUSES and c.out_of_scope is None]
        if uncovered:
            console.print(_table(uncovered, "In scope but not judged"))
        for category in OutOfScope:
            skipped = [check for check in checks if check.out_of_scope == category.value]
            if skipped:
                example = skipped[0]
                console.print(
                    f"{len(skipped)} out of scope ({category.label}), e.g. {example.id}: "
                    f"{example.message}",
                    style="dim",
                    highlight=False,
                )
    counts = verdict.counts
    tally = ", ".join(f"{counts[status]} {status}" for status in CHECK_STATUSES if counts[status])
    console.print(
        Text.assemble(
            ("verdict: ", "bold"),
            (verdict.status.upper(), _STYLE[verdict.status]),
            f" — {verdict.coverage.describe()}",
        )
    )
    for rank, finding in enumerate(verdict.diagnosis, start=1):
        console.print(f"  {rank}. {finding.sentence}", highlight=False, markup=False)
    console.print(f"  checks: {tally}", style="dim", highlight=False)
    for reason in verdict.reasons:
        console.print(f"  - {reason}", highlight=False)
