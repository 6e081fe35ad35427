"""`RUN_DIR/compare.html`: a `perfctl compare` result with both runs' distributions overlaid."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness import __version__
from harness.errors import RunDirError
from harness.report._data import read_run_data
from harness.report._distribution_figures import overlay_figure
from harness.report._html import PLOTLY_FILE, embed, render, write_atomically
from harness.report._series import ALL_REQUESTS, OperationTotals, build_series
from harness.rundir import RUN_FILE

COMPARE_PAGE = "compare.html"


def _locate(recorded: str, run_dir: Path) -> Path | None:
    """The run directory compare.json names: as recorded, else a sibling of `run_dir`."""
    path = Path(recorded)
    for candidate in (path, run_dir.parent / path.name):
        if (candidate / RUN_FILE).is_file():
            return candidate
    return None


def _spectra(run_dir: Path | None) -> dict[str, OperationTotals]:
    if run_dir is None:
        return {}
    try:
        return build_series(read_run_data(run_dir)).totals
    except RunDirError:
        return {}


def _number(value: object, figure: str, *, signed: bool = False) -> str:
    if not isinstance(value, int | float) or value != value:  # None, text, NaN
        return "—"
    sign = "+" if signed else ""
    return f"{value:{sign}.3%}" if figure == "error_rate" else f"{value:{sign},.2f}"


def _interval(change: dict[str, Any], figure: str) -> str:
    low, high = change.get("interval_low"), change.get("interval_high")
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return str(change.get("note") or "—")
    return f"[{_number(low, figure, signed=True)}, {_number(high, figure, signed=True)}]"


def _threshold(change: dict[str, Any], figure: str) -> str:
    threshold = change.get("threshold")
    if not isinstance(threshold, int | float):
        return "—"
    bad_way = -1 if change.get("direction") == "lower_is_worse" else 1
    return _number(bad_way * threshold, figure, signed=True)


def _change_rows(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    changes = [c for c in comparison.get("changes") or () if isinstance(c, dict)]
    changes.sort(key=lambda c: not c.get("regression"))
    rows = []
    for change in changes:
        figure = str(change.get("figure", ""))
        relative = change.get("relative")
        p_adjusted = change.get("p_adjusted")
        rows.append(
            {
                "operation": str(change.get("operation", "")),
                "figure": figure,
                "base": _number(change.get("base"), figure),
                "new": _number(change.get("new"), figure),
                "change": f"{relative:+.1%}" if isinstance(relative, int | float) else "—",
                "interval": _interval(change, figure),
                "threshold": _threshold(change, figure),
                "p_value": f"{p_adjusted:.3g}" if isinstance(p_adjusted, int | float) else "—",
                "tested": bool(change.get("tested")),
                "regression": bool(change.get("regression")),
            }
        )
    return rows


def write_compare_page(run_dir: Path, comparison: dict[str, Any]) -> Path:
    """Render `run_dir/compare.html` for the compare.json found in `run_dir`; its path."""
    base_dir = _locate(str(comparison.get("base_run", "")), run_dir)
    new_dir = _locate(str(comparison.get("new_run", "")), run_dir) or run_dir
    base, new = _spectra(base_dir), _spectra(new_dir)
    shared = sorted(set(base) & set(new) - {ALL_REQUESTS})
    figures = []
    for index, op in enumerate([ALL_REQUESTS, *shared], start=1):
        if op.startswith("journey."):
            continue
        figure = overlay_figure(
            op,
            base[op].spectrum if op in base else [],
            new[op].spectrum if op in new else [],
        )
        if figure is not None:
            figures.append({"id": f"figure-{index}", "json": embed(figure)})
    rows = _change_rows(comparison)

    def link(directory: Path | None) -> str:
        if directory is None or not (directory / "index.html").exists():
            return ""
        if directory.resolve() == run_dir.resolve():
            return "index.html"
        return f"../{quote(directory.name)}/index.html"

    page = render(
        "compare.html.j2",
        version=__version__,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        plotly_src=f"../{PLOTLY_FILE}",
        base_name=Path(str(comparison.get("base_run", ""))).name,
        new_name=Path(str(comparison.get("new_run", ""))).name,
        base_href=link(base_dir),
        new_href=link(new_dir),
        base_missing=base_dir is None,
        regressions=sum(1 for row in rows if row["regression"]),
        max_regression=comparison.get("max_regression"),
        confidence=comparison.get("confidence"),
        min_change_ms=comparison.get("min_change_ms"),
        method=comparison.get("method") if isinstance(comparison.get("method"), dict) else {},
        rows=rows,
        figures=figures,
    )
    path = run_dir / COMPARE_PAGE
    write_atomically(path, page)
    return path
