"""Two runs → per-operation changes, each tested for significance: the regression gate.

A change is a regression only when it is both larger than the allowed threshold and
statistically significant at the chosen confidence:
- latency percentiles (p50, p95, p99): bootstrap of the percentile difference, resampling
  each run's HDR histogram bins (multinomial) — exact for binned data, no shape assumed;
- error rate: one-sided two-proportion z-test (pooled);
- throughput: one-sided Mann-Whitney U test on the per-second request counts.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.distribution import Distribution, bootstrap_shift
from harness.errors import RunDirError, UsageError
from harness.verdict.evaluate import JudgedRun, read_judged_run
from harness.verdict.scope import Span, scope_span

COMPARE_SCHEMA = 1
PERCENTILES = (50.0, 95.0, 99.0)
Direction = Literal["higher_is_worse", "lower_is_worse"]


@dataclass(frozen=True, slots=True)
class Change:
    """One figure of one operation in both runs."""

    operation: str
    """Operation, or "*" for every request."""
    figure: str
    """p50_ms, p95_ms, p99_ms, error_rate or throughput_rps."""
    base: float | None
    """Value in the base run."""
    new: float | None
    """Value in the new run."""
    direction: Direction
    """Whether a rise or a fall is the bad direction."""
    relative: float | None = None
    """(new - base) / base; None when base is 0 or a value is missing."""
    p_value: float | None = None
    """One-sided probability of a change this bad by chance (bootstrap: share of resamples
    without a worsening)."""
    significant: bool = False
    """Worse at the chosen confidence."""
    regression: bool = False
    """Worse by more than the threshold, and significant."""
    note: str = ""
    """Why a figure could not be compared."""

    @property
    def absolute(self) -> float | None:
        return None if self.base is None or self.new is None else self.new - self.base


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every change between two runs, and whether any is a regression."""

    base_run: str
    new_run: str
    max_regression: float
    confidence: float
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def regressions(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.regression)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": COMPARE_SCHEMA,
            "base_run": self.base_run,
            "new_run": self.new_run,
            "max_regression": self.max_regression,
            "confidence": self.confidence,
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


def compare_runs(
    base_dir: Path, new_dir: Path, *, max_regression: float, confidence: float
) -> Comparison:
    """Compare every operation the two runs share (and all requests together)."""
    if not 0.5 <= confidence < 1:
        raise UsageError(f"--confidence must be in [0.5, 1), got {confidence}")
    base, new = read_judged_run(base_dir), read_judged_run(new_dir)
    base_span, new_span = _span(base), _span(new)
    shared = sorted(set(base.data.operations) & set(new.data.operations))
    changes: list[Change] = []
    for op in ["*", *shared]:
        changes += _latency_changes(base, new, op, base_span, new_span, max_regression, confidence)
        changes.append(
            _error_rate_change(base, new, op, base_span, new_span, max_regression, confidence)
        )
        changes.append(
            _throughput_change(base, new, op, base_span, new_span, max_regression, confidence)
        )
    for op in sorted(set(base.data.operations) ^ set(new.data.operations)):
        side = "base" if op in base.data.operations else "new"
        changes.append(
            Change(op, "requests", None, None, "lower_is_worse", note=f"only in the {side} run")
        )
    return Comparison(str(base_dir), str(new_dir), max_regression, confidence, tuple(changes))


def _span(run: JudgedRun) -> Span:
    span = scope_span(run.plan, run.clock, "run")
    if isinstance(span, str):
        raise RunDirError(f"{run.run_dir}: {span}")
    return span


def _relative(base: float | None, new: float | None) -> float | None:
    if base is None or new is None or base == 0:
        return None
    return (new - base) / base


def _latency_changes(
    base: JudgedRun,
    new: JudgedRun,
    op: str,
    bs: Span,
    ns: Span,
    threshold: float,
    confidence: float,
) -> list[Change]:
    before = Distribution.from_pairs(base.data.histogram(op, bs.start_t, bs.end_t).buckets_ms())
    after = Distribution.from_pairs(new.data.histogram(op, ns.start_t, ns.end_t).buckets_ms())
    changes = []
    for q in PERCENTILES:
        figure = f"p{q:g}_ms"
        shift = bootstrap_shift(before, after, q, confidence=confidence)
        if shift is None:
            changes.append(
                Change(
                    op,
                    figure,
                    before.percentile(q),
                    after.percentile(q),
                    "higher_is_worse",
                    note="no samples",
                )
            )
            continue
        significant = shift.low > 0
        relative = shift.relative
        changes.append(
            Change(
                op,
                figure,
                shift.base,
                shift.new,
                "higher_is_worse",
                relative=relative,
                p_value=1.0 - shift.probability_increase,
                significant=significant,
                regression=significant and relative is not None and relative > threshold,
            )
        )
    return changes


def _error_rate_change(
    base: JudgedRun,
    new: JudgedRun,
    op: str,
    bs: Span,
    ns: Span,
    threshold: float,
    confidence: float,
) -> Change:
    from scipy import stats

    before = base.data.counts(op, bs.start_t, bs.end_t)
    after = new.data.counts(op, ns.start_t, ns.end_t)
    if not before.total or not after.total:
        return Change(op, "error_rate", None, None, "higher_is_worse", note="no requests")
    failed_before, failed_after = before.total - before.ok, after.total - after.ok
    rate_before, rate_after = failed_before / before.total, failed_after / after.total
    pooled = (failed_before + failed_after) / (before.total + after.total)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / before.total + 1 / after.total))
    p_value = 1.0 if spread == 0 else float(stats.norm.sf((rate_after - rate_before) / spread))
    significant = p_value < 1 - confidence
    # an error rate rising from zero has no relative change; any significant rise counts
    relative = _relative(rate_before, rate_after)
    worse = relative > threshold if relative is not None else rate_after > rate_before
    return Change(
        op,
        "error_rate",
        rate_before,
        rate_after,
        "higher_is_worse",
        relative=relative,
        p_value=p_value,
        significant=significant,
        regression=significant and worse,
    )


def _throughput_change(
    base: JudgedRun,
    new: JudgedRun,
    op: str,
    bs: Span,
    ns: Span,
    threshold: float,
    confidence: float,
) -> Change:
    from scipy import stats

    before = base.data.requests_per_second(op, bs.start_t, bs.end_t)
    after = new.data.requests_per_second(op, ns.start_t, ns.end_t)
    rate_before, rate_after = sum(before) / len(before), sum(after) / len(after)
    relative = _relative(rate_before, rate_after)
    if len(before) < 3 or len(after) < 3:
        return Change(
            op,
            "throughput_rps",
            rate_before,
            rate_after,
            "lower_is_worse",
            relative=relative,
            note="too few seconds",
        )
    p_value = float(stats.mannwhitneyu(after, before, alternative="less").pvalue)
    significant = p_value < 1 - confidence
    return Change(
        op,
        "throughput_rps",
        rate_before,
        rate_after,
        "lower_is_worse",
        relative=relative,
        p_value=p_value,
        significant=significant,
        regression=significant and relative is not None and -relative > threshold,
    )


def render_markdown(comparison: Comparison) -> str:
    """compare.md: the regressions first, then every figure per operation."""
    verdict = "❌ REGRESSION" if comparison.regressions else "✅ NO REGRESSION"
    lines = [
        f"## perfctl compare: {verdict}",
        "",
        f"base `{comparison.base_run}` → new `{comparison.new_run}`; a regression is worse by more "
        f"than {comparison.max_regression:.0%} and significant at {comparison.confidence:.0%}.",
        "",
        "| operation | figure | base | new | change | p-value | regression |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    ordered = sorted(comparison.changes, key=lambda change: not change.regression)
    for change in ordered:
        lines.append(
            "| {op} | {fig} | {base} | {new} | {rel} | {p} | {reg} |".format(
                op=change.operation.replace("|", "\\|"),
                fig=change.figure,
                base=_number(change.base, change.figure),
                new=_number(change.new, change.figure),
                rel=f"{change.relative:+.1%}"
                if change.relative is not None
                else change.note or "—",
                p=f"{change.p_value:.3g}" if change.p_value is not None else "—",
                reg="**yes**" if change.regression else "no",
            )
        )
    return "\n".join(lines) + "\n"


def _number(value: float | None, figure: str) -> str:
    if value is None:
        return "—"
    if figure == "error_rate":
        return f"{value:.3%}"
    return f"{value:,.1f}"


def write_comparison(comparison: Comparison, out_dir: Path) -> tuple[Path, Path]:
    """compare.json and compare.md in `out_dir` (the new run's directory by default)."""
    json_path, md_path = out_dir / "compare.json", out_dir / "compare.md"
    try:
        json_path.write_text(json.dumps(comparison.to_dict(), indent=2) + "\n", encoding="utf-8")
        md_path.write_text(render_markdown(comparison), encoding="utf-8")
    except OSError as error:
        raise RunDirError(f"cannot write the comparison in {out_dir}: {error.strerror}") from None
    return json_path, md_path
