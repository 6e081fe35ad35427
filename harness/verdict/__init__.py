"""The verdict: every objective of the SLA judged against a run's timeline."""

from harness.verdict._abort import AbortWatch
from harness.verdict._capacity import print_capacity
from harness.verdict._coverage import OutOfScope
from harness.verdict._evaluate import (
    JudgedRun,
    read_judged_run,
)
from harness.verdict._format import (
    format_limit,
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
from harness.verdict._outputs import VERDICT_FILE
from harness.verdict._scope import (
    RunClock,
    Span,
    run_clock,
    scope_span,
    windows,
)
from harness.verdict._table import print_verdict

__all__ = [
    "CHECK_STATUSES",
    "VERDICT_FILE",
    "AbortWatch",
    "Check",
    "JudgedRun",
    "Measurements",
    "OutOfScope",
    "RunClock",
    "Span",
    "Verdict",
    "format_limit",
    "format_value",
    "format_windows",
    "judge_run_dir",
    "print_capacity",
    "print_verdict",
    "read_judged_run",
    "run_clock",
    "scope_span",
    "windows",
]
