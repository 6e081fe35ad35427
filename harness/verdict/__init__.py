"""The verdict: every objective of the SLA judged against a run's timeline.

Judging a run:
    judge_run_dir    judge a run directory against its SLA and write verdict.json, junit.xml
                     and summary.md (`perfctl evaluate`, and `perfctl run` after the load)
    Verdict          the verdict: its checks, coverage, status and exit code (verdict.json)
    Finding          one ranked sentence of the verdict's diagnosis: the rule that fired, the
                     figures it cites, the report section that shows them
    Check            one objective judged: measured value, limit, status, message
    CHECK_STATUSES   every check status, most urgent first
    OutOfScope       why an unjudged check was out of scope, with its label
    VERDICT_FILE     the verdict's file name in the run directory
    read_verdict     a run's verdict.json read back (None when it was never judged)
    AbortWatch       the abort-on-breach rule, fed the timeline during the run (the pipeline
                     hands it to the run stage, which knows only its shape)
    ProvisionalJudge every objective judged on what a run still going has recorded so far
                     (the live view's provisional status; writes nothing)

Showing it:
    print_verdict    the verdict as a table at the terminal
    print_capacity   the CPU capacity estimate (informational) at the terminal

Judging throughput from a capacity search (`perfctl capacity`) instead of a run's load:
    capacity_checks  every throughput and breaking_point objective judged from a knee
    print_capacity_checks   those checks as a table under their own heading
    format_value     a measured value as a person reads it, in its unit
    format_measured  a check's measured value with its confidence interval: `477 ms [471, 484]`
    format_interval  a check's confidence interval alone (`[471, 484]`; "" when it has none)
    format_limit     a check's limit as a person reads it
    format_windows   the windows a check passed ("k/n"), or "run" when judged as a whole

Reading a run on the verdict's terms (compare and report read runs the same way):
    read_judged_run  a run directory read for judging: record, plan, clock, measurements
    JudgedRun        what read_judged_run returns
    Measurements     a run's timeline and engine events, ready for range queries
    run_clock        the run's time axis from run.json and engine.json
    RunClock         when offset 0 of the plan happened and when the load stopped
    scope_span       the span judged for a scope (the run after warm-up, or a stage)
    Span             a half-open range of whole unix seconds
    NoSpan           why a scope has no span (scope_span's other answer)
    windows          a span cut into windows
"""

from harness.verdict._abort import AbortWatch
from harness.verdict._capacity_checks import capacity_checks
from harness.verdict._coverage import OutOfScope
from harness.verdict._cpu_estimate import print_capacity
from harness.verdict._evaluate import (
    JudgedRun,
    read_judged_run,
)
from harness.verdict._finding import Finding
from harness.verdict._format import (
    format_interval,
    format_limit,
    format_measured,
    format_value,
    format_windows,
)
from harness.verdict._gate import judge_run_dir
from harness.verdict._measurements import Measurements
from harness.verdict._model import (
    CHECK_STATUSES,
    Check,
    Verdict,
)
from harness.verdict._outputs import VERDICT_FILE, read_verdict
from harness.verdict._provisional import ProvisionalJudge
from harness.verdict._scope import (
    NoSpan,
    RunClock,
    Span,
    run_clock,
    scope_span,
    windows,
)
from harness.verdict._table import print_capacity_checks, print_verdict

__all__ = [
    "CHECK_STATUSES",
    "VERDICT_FILE",
    "AbortWatch",
    "Check",
    "Finding",
    "JudgedRun",
    "Measurements",
    "NoSpan",
    "OutOfScope",
    "ProvisionalJudge",
    "RunClock",
    "Span",
    "Verdict",
    "capacity_checks",
    "format_interval",
    "format_limit",
    "format_measured",
    "format_value",
    "format_windows",
    "judge_run_dir",
    "print_capacity",
    "print_capacity_checks",
    "print_verdict",
    "read_judged_run",
    "read_verdict",
    "run_clock",
    "scope_span",
    "windows",
]
