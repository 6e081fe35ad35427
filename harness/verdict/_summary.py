"""summary.md: a short markdown verdict for $GITHUB_STEP_SUMMARY or a pull-request comment."""

from __future__ import annotations

from harness.markdown import literal_text
from harness.spec import CONFIDENCE
from harness.verdict._coverage import UNJUDGED_STATUSES
from harness.verdict._format import format_limit, format_measured, format_windows
from harness.verdict._model import CHECK_STATUSES, Check, Verdict

_BADGE = {
    "pass": "✅ PASS",
    "warn": "⚠️ PASS WITH WARNINGS",
    "fail": "❌ FAIL",
    "marginal": "⚖️ PASS, TOO CLOSE TO CALL",
    "aborted": "⛔ ABORTED",
    "inconclusive": "❔ INCONCLUSIVE",
}


def _row(check: Check) -> str:
    cells = (
        literal_text(check.status),
        literal_text(check.id),
        literal_text(check.severity),
        literal_text(format_measured(check)),
        literal_text(format_limit(check)),
        literal_text(format_windows(check)),
        literal_text(check.message),
    )
    return "| " + " | ".join(cells) + " |"


def render_summary(verdict: Verdict) -> str:
    """Markdown: the verdict, its diagnosis (ranked sentences), what was run, the counts,
    then the checks that need attention (too close to call first, then failed, warned, in
    scope and not judged), each measured value with its confidence interval."""
    run = verdict.run
    lines = [f"## perfctl: {_BADGE[verdict.status]}", ""]
    if verdict.diagnosis:
        lines += [
            *(
                f"{rank}. {literal_text(finding.sentence)}"
                for rank, finding in enumerate(verdict.diagnosis, start=1)
            ),
            "",
        ]
    what = ", ".join(
        f"{key} {literal_text(str(run[key]))}"
        for key in ("scenario", "profile", "target", "run_id")
        if run.get(key)
    )
    if what:
        lines += [what, ""]
    lines += [f"- {literal_text(reason)}" for reason in verdict.reasons]
    if verdict.reasons:
        lines.append("")
    lines += [f"**{literal_text(verdict.coverage.describe())}**", ""]
    counts = verdict.counts
    lines.append(" · ".join(f"{counts[s]} {s}" for s in CHECK_STATUSES if counts[s]))
    lines.append("")
    attention = [
        check
        for check in verdict.checks
        if check.status in ("marginal", "fail", "warn")
        or (check.status in UNJUDGED_STATUSES and check.out_of_scope is None)
    ]
    if attention:
        order = {status: index for index, status in enumerate(CHECK_STATUSES)}
        attention.sort(key=lambda check: order[check.status])
        lines += [
            f"| status | check | severity | measured [{CONFIDENCE * 100:g} % interval] | limit | windows "
            "| note |",
            "|---|---|---|---:|---|---|---|",
            *(_row(check) for check in attention),
            "",
        ]
        actions = {action for check in attention for action in check.actions}
        if actions:
            lines.append("Recommended actions: " + literal_text(", ".join(sorted(actions))) + ".")
            lines.append("")
    return "\n".join(lines)
