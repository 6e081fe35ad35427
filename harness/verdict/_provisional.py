"""Every objective judged on what a run still going has recorded so far (the live view's
"so far" status).

The same judgement as the verdict's (`evaluate`: scopes, windows, warm-up, minimum samples,
delivery), on the timeline lines, load seconds and engine events read so far, with the run's
clock ending at the last measured second. It is provisional: a pass now can fail later, a
stage not reached yet is `not_exercised`, and nothing is written. The run-directory reader
refuses a run that is still going, so the caller hands in the lines it has tailed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.errors import RunDirError
from harness.observe import read_server_series
from harness.plan import RunPlan
from harness.rundir import RunRecord
from harness.spec import Sla
from harness.timeline import EngineEvent, LoadSample, WindowLine
from harness.verdict._evaluate import JudgedRun, evaluate
from harness.verdict._gate import sla_for_run
from harness.verdict._measurements import GENERATOR_TROUBLE, Measurements
from harness.verdict._model import Check
from harness.verdict._scope import run_clock


class ProvisionalJudge:
    """Judges a run still going, as often as asked, against the SLA it was started with."""

    def __init__(self, run_dir: Path, record: RunRecord, plan: RunPlan) -> None:
        """Load the run's SLA (run.json's `sla`, else ./sla.yaml): a SpecError when it is
        unreadable, which `perfctl run` has already ruled out before any load."""
        self.run_dir = run_dir
        self.plan = plan
        self.sla: Sla = sla_for_run(run_dir, None, record.sla)

    def judge(
        self,
        record: RunRecord,
        lines: Iterable[WindowLine],
        load: Sequence[LoadSample],
        events: Sequence[EngineEvent],
    ) -> tuple[Check, ...]:
        """Every check as the verdict would judge it had the run ended at its last measured
        second; a RunDirError names a corrupt histogram."""
        data = Measurements.of_lines(self.run_dir, lines, events)
        try:
            server = read_server_series(self.run_dir)
        except RunDirError:
            server = None  # a line being written: the server-side checks wait for the next turn
        run = JudgedRun(
            self.run_dir,
            record,
            self.plan,
            run_clock(record, data.time_range(), None),
            data,
            saturated=any(event.kind in GENERATOR_TROUBLE for event in events),
            server=server,
            load=tuple(load),
            run_status="running",
        )
        return evaluate(run, self.sla).checks
