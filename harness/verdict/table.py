"""The verdict as a table at the terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.verdict._format import format_limit, format_value, format_windows
from harness.verdict.model import CHECK_STATUSES, Verdict

_STYLE = {
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
    "not_exercised": "dim",
    "no_data": "dim",
    "inconclusive": "magenta",
    "aborted": "bold red",
}


def print_verdict(verdict: Verdict, console: Console, *, all_checks: bool = True) -> None:
    """Checks (most urgent first), the overall verdict and its reasons."""
    order = {status: index for index, status in enumerate(CHECK_STATUSES)}
    checks = sorted(verdict.checks, key=lambda check: order[check.status])
    if not all_checks:
        checks = [check for check in checks if check.status not in ("pass",)]
    table = Table(title=f"SLA checks ({len(verdict.checks)})", title_justify="left")
    for column in ("status", "check", "sev.", "measured", "limit", "windows"):
        table.add_column(column, no_wrap=column != "check")
    for check in checks:
        table.add_row(
            Text(check.status, style=_STYLE[check.status]),
            Text(check.id),
            check.severity,
            format_value(check.measured, check.unit),
            format_limit(check),
            format_windows(check),
        )
    if checks:
        console.print(table)
    counts = verdict.counts
    tally = ", ".join(f"{counts[status]} {status}" for status in CHECK_STATUSES if counts[status])
    label = verdict.status.upper()
    console.print(
        Text.assemble(("verdict: ", "bold"), (label, _STYLE[verdict.status]), f"  ({tally})")
    )
    for reason in verdict.reasons:
        console.print(f"  - {reason}", highlight=False)
