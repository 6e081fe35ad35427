"""Two runs → per-operation changes, and whether any is a regression: the regression gate.

`compare_runs` reads both run directories, cuts each judged span (the run after warm-up)
into windows of `WINDOW_S` seconds (shorter for a run under `MIN_WINDOWS` windows of that,
the same length for both runs) and hands them to `harness.compare._changes`, whose docstring
gives the rules: block bootstrap over windows, the regression threshold applied to the
confidence interval, an absolute floor beside the relative threshold, Holm's correction over
every figure tested, and a minimum sample count per percentile. compare.json records the
method next to every figure, and compare.md says it in one paragraph.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.compare._changes import (
    CORRECTION,
    CORRECTION_REASON,
    MIN_TAIL_SAMPLES,
    PERCENTILES,
    Change,
    Floors,
    OperationWindows,
    compare_windows,
    min_samples,
)
from harness.compare._distribution import Distribution
from harness.errors import RunDirError, UsageError
from harness.markdown import code_span
from harness.verdict import (
    JudgedRun,
    NoSpan,
    Span,
    read_judged_run,
    scope_span,
    windows,
)

__all__ = [
    "Change",
    "Comparison",
    "Floors",
    "compare_runs",
    "parse_floors",
    "parse_percent",
    "render_markdown",
    "write_comparison",
]

COMPARE_SCHEMA = 2
WINDOW_S = 5
"""Seconds per bootstrap window: long enough to hold a burst and a closed-model user's think
time, short enough that a one-minute run still has a dozen windows."""
MIN_WINDOWS = 8
"""Windows a run is cut into at least: a shorter run gets shorter windows (1 s at least)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every change between two runs, and whether any is a regression."""

    base_run: str
    new_run: str
    max_regression: float
    confidence: float
    floors: Floors = field(default_factory=Floors)
    window_s: int = WINDOW_S
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def regressions(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.regression)

    @property
    def tested(self) -> int:
        """Figures tested: the size of the family Holm corrects over."""
        return sum(1 for change in self.changes if change.tested)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": COMPARE_SCHEMA,
            "base_run": self.base_run,
            "new_run": self.new_run,
            "max_regression": self.max_regression,
            "confidence": self.confidence,
            "min_change_ms": self.floors.latency_ms,
            "min_error_rate_change": self.floors.error_rate,
            "min_throughput_change_rps": self.floors.throughput_rps,
            "method": {
                "unit": f"windows of {self.window_s} s (block bootstrap)",
                "correction": CORRECTION,
                "correction_reason": CORRECTION_REASON,
                "figures_tested": self.tested,
                "min_tail_samples": MIN_TAIL_SAMPLES,
                "min_samples": {f"p{q:g}_ms": min_samples(q) for q in PERCENTILES},
            },
            "regression": bool(self.regressions),
            "changes": [asdict(change) | {"absolute": change.absolute} for change in self.changes],
        }


def parse_percent(text: str, option: str) -> float:
    """ "10%" or "10" or "0.1"? Percent only: "10%" and "10" both mean 0.10."""
    cleaned = text.strip().removesuffix("%").strip()
    try:
        value = float(cleaned) / 100.0
    except ValueError:
        raise UsageError(f"{option} must be a percentage such as 10%, got {text!r}") from None
    if not 0 <= value < 10 or math.isnan(value):
        raise UsageError(f"{option} must be between 0% and 1000%, got {text!r}")
    return value


def parse_floors(min_change_ms: float, min_error_change: str, min_throughput_rps: float) -> Floors:
    """The absolute floors from `--min-change`, `--min-error-change`, `--min-throughput-change`."""
    for value, option in (
        (min_change_ms, "--min-change"),
        (min_throughput_rps, "--min-throughput-change"),
    ):
        if not math.isfinite(value) or value < 0:
            raise UsageError(f"{option} must be a number >= 0, got {value:g}")
    error_rate = parse_percent(min_error_change, "--min-error-change")
    if error_rate > 1:
        raise UsageError(f"--min-error-change must be at most 100%, got {min_error_change!r}")
    return Floors(min_change_ms, error_rate, min_throughput_rps)


def compare_runs(
    base_dir: Path,
    new_dir: Path,
    *,
    max_regression: float,
    confidence: float,
    floors: Floors | None = None,
) -> Comparison:
    """Compare every operation the two runs share (and all requests together)."""
    if not 0.5 <= confidence < 1:
        raise UsageError(f"--confidence must be in [0.5, 1), got {confidence}")
    floors = floors or Floors()
    base, new = read_judged_run(base_dir), read_judged_run(new_dir)
    base_span, new_span = _span(base), _span(new)
    shortest_s = min(base_span.duration_s, new_span.duration_s)
    window_s = min(WINDOW_S, max(1, shortest_s // MIN_WINDOWS))
    before = _windowed(base, windows(base_span, window_s))
    after = _windowed(new, windows(new_span, window_s))
    changes = compare_windows(
        before, after, max_regression=max_regression, confidence=confidence, floors=floors
    )
    for op in sorted(set(before) ^ set(after)):
        side = "base" if op in before else "new"
        changes.append(
            Change(op, "requests", None, None, "lower_is_worse", note=f"only in the {side} run")
        )
    return Comparison(
        str(base_dir), str(new_dir), max_regression, confidence, floors, window_s, tuple(changes)
    )


def _span(run: JudgedRun) -> Span:
    span = scope_span(run.plan, run.clock, "run")
    if isinstance(span, NoSpan):
        raise RunDirError(f"{run.run_dir}: {span.reason}")
    return span


def _windowed(run: JudgedRun, spans: list[Span]) -> dict[str, OperationWindows]:
    """Every request operation of `run`, cut into `spans`."""
    operations = {}
    for op in run.data.operations:
        counts = [run.data.counts(op, w.start_t, w.end_t) for w in spans]
        operations[op] = OperationWindows(
            latency=tuple(
                Distribution.from_pairs(run.data.histogram(op, w.start_t, w.end_t).buckets_ms())
                for w in spans
            ),
            failed=tuple(c.failed for c in counts),
            requests=tuple(c.total for c in counts),
            seconds=tuple(w.duration_s for w in spans),
        )
    return operations


def render_markdown(comparison: Comparison) -> str:
    """compare.md: the regressions first, then every figure per operation.

    Operation names and run paths are written as code spans, so a name holding markdown or
    HTML (`<img onerror=...>`) renders as text wherever the markdown is shown.
    """
    verdict = "❌ REGRESSION" if comparison.regressions else "✅ NO REGRESSION"
    floors = comparison.floors
    lines = [
        f"## perfctl compare: {verdict}",
        "",
        f"base {code_span(comparison.base_run)} → new {code_span(comparison.new_run)}.",
        "",
        f"A figure regresses when its whole confidence interval is worse by more than "
        f"{comparison.max_regression:.0%} of the base value and by more than "
        f"{floors.latency_ms:g} ms (latency), {floors.error_rate:.2%} (error rate) or "
        f"{floors.throughput_rps:g} req/s (throughput). Each interval is drawn at the level "
        f"Holm's correction sets for it over the {comparison.tested} figures tested, so two "
        f"runs of the same code are called a regression at most "
        f"{1 - comparison.confidence:.0%} of the time; intervals come from a block bootstrap "
        f"over {comparison.window_s} s windows. A percentile is tested only with "
        f"{MIN_TAIL_SAMPLES} samples beyond it in each run (p50: {min_samples(50):,}, "
        f"p95: {min_samples(95):,}, p99: {min_samples(99):,}).",
        "",
        "| operation | figure | base | new | change | interval of new − base | threshold "
        "| p (Holm) | regression |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    ordered = sorted(comparison.changes, key=lambda change: not change.regression)
    for change in ordered:
        lines.append(
            "| {op} | {fig} | {base} | {new} | {rel} | {interval} | {threshold} | {p} | {reg} |".format(
                op=code_span(change.operation, in_table=True),
                fig=change.figure,
                base=_number(change.base, change.figure),
                new=_number(change.new, change.figure),
                rel=f"{change.relative:+.1%}" if change.relative is not None else "—",
                interval=_interval(change),
                threshold=_threshold(change),
                p=f"{change.p_adjusted:.3g}" if change.p_adjusted is not None else "—",
                reg="**yes**" if change.regression else "no",
            )
        )
    return "\n".join(lines) + "\n"


def _threshold(change: Change) -> str:
    """The change that would be a regression, signed the bad way."""
    if change.threshold is None:
        return "—"
    sign = 1.0 if change.direction == "higher_is_worse" else -1.0
    return _number(sign * change.threshold, change.figure, signed=True)


def _interval(change: Change) -> str:
    if change.interval_low is None or change.interval_high is None:
        return change.note or "—"
    low = _number(change.interval_low, change.figure, signed=True)
    high = _number(change.interval_high, change.figure, signed=True)
    return f"[{low}, {high}]"


def _number(value: float | None, figure: str, *, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    sign = "+" if signed else ""
    if figure == "error_rate":
        return f"{value:{sign}.3%}"
    return f"{value:{sign},.{2 if abs(value) < 10 else 1}f}"


def write_comparison(comparison: Comparison, out_dir: Path) -> tuple[Path, Path]:
    """compare.json and compare.md in `out_dir` (the new run's directory by default)."""
    json_path, md_path = out_dir / "compare.json", out_dir / "compare.md"
    try:
        json_path.write_text(json.dumps(comparison.to_dict(), indent=2) + "\n", encoding="utf-8")
        md_path.write_text(render_markdown(comparison), encoding="utf-8")
    except OSError as error:
        raise RunDirError(f"cannot write the comparison in {out_dir}: {error.strerror}") from None
    return json_path, md_path
