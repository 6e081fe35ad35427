"""The live view's feed: one run directory followed each second, from the `perfctl run` process.

The engine's master (or local process) appends each finished, merged second to
timeline.jsonl and load.jsonl and flushes them at once (events.jsonl too), and the terminal
table already tails them; the feed tails the same files. So the live view sees the same
merged seconds in a local and a distributed run, never runs inside a Locust process (no
gevent, no locust import), and costs the engine nothing.

Each turn: run.json (status, start), the new lines of the three files into the `LiveState`,
and, every `JUDGE_EVERY_S` at most (longer when judging takes long), every objective judged on
the lines so far (`ProvisionalJudge`). Once run.json says the run ended, the feed waits for
the verdict (verdict.json, whose checks replace the provisional ones) and the report
(index.html).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.errors import PerfctlError, RunDirError
from harness.live._state import CheckView, Ending, LiveState
from harness.plan import RunPlan
from harness.rundir import RunRecord, read_run_record
from harness.timeline import (
    EVENTS_FILE,
    LOAD_FILE,
    TIMELINE_FILE,
    EngineEvent,
    LineTail,
    LoadSample,
    MalformedError,
    WindowLine,
    parse_python,
)
from harness.verdict import Check, ProvisionalJudge, format_limit, format_measured, read_verdict

TURN_S = 1.0
"""The feed reads the files (and the page gets a snapshot) this often."""
JUDGE_EVERY_S = 5.0
"""Objectives are judged on the data so far at most this often..."""
JUDGE_COST_FACTOR = 10.0
"""...and at most once per this many times what the last judgement took (a long run's
timeline grows; the judging thread must not take the machine from the load)."""
REPORT_FILE = "index.html"


def check_views(checks: Sequence[Check]) -> tuple[CheckView, ...]:
    """Checks as the page shows them."""
    return tuple(
        CheckView(
            id=check.id,
            operation=check.operation,
            status=check.status,
            limit=format_limit(check),
            measured=format_measured(check),
            message=check.message,
        )
        for check in checks
    )


class _Tails:
    def __init__(self, run_dir: Path) -> None:
        self.load = LineTail(run_dir / LOAD_FILE, LoadSample)
        self.timeline = LineTail(run_dir / TIMELINE_FILE, WindowLine)
        self.events = LineTail(run_dir / EVENTS_FILE, EngineEvent)


class RunFeed:
    """Follows one run directory into a `LiveState`; `step` is one turn (a thread calls it
    every `TURN_S` between `start` and `stop`, and calls `publish` after each)."""

    def __init__(self, state: LiveState, publish: Callable[[], None] = lambda: None) -> None:
        self.state = state
        self.publish = publish
        self.run_dir: Path | None = None
        self.done = False
        """The verdict and the report are in: nothing more will change."""
        self._tails: _Tails | None = None
        self._judge: ProvisionalJudge | None = None
        self._judge_due = 0.0
        self._judged_lines = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def follow(self, run_dir: Path) -> None:
        """The run directory to follow (the run stage hands it over once it exists)."""
        self.run_dir = run_dir

    # -- one turn ---------------------------------------------------------------------------

    def step(self) -> None:
        """Read what changed; judge the objectives when due."""
        run_dir = self.run_dir
        if run_dir is None or self.done:
            return
        try:
            record = read_run_record(run_dir)
        except RunDirError:
            return  # not written yet (or being replaced): next turn
        state = self.state
        if self._tails is None:
            try:
                plan = parse_python(RunPlan, record.plan)
            except MalformedError:
                return
            self._tails = _Tails(run_dir)
            with state.lock:
                state.start(record, plan)
        tails = self._tails
        # load before timeline: the engine writes a second's timeline lines before its load line
        load = tails.load.read_new()
        lines = tails.timeline.read_new()
        events = tails.events.read_new()
        with state.lock:
            state.record = record
            state.add(load, lines, events)
        if record.status == "running":
            self._judge_if_due(record)
        else:
            self._ending(run_dir, record)

    def _judge_if_due(self, record: RunRecord) -> None:
        now = time.monotonic()
        state = self.state
        with state.lock:
            lines = list(state.lines)
            load = list(state.load_samples)
            events = list(state.all_events)
            plan = state.plan
        if now < self._judge_due or not lines or len(lines) == self._judged_lines or plan is None:
            return
        assert self.run_dir is not None
        try:
            if self._judge is None:
                self._judge = ProvisionalJudge(self.run_dir, record, plan)
            checks = self._judge.judge(record, lines, load, events)
        except PerfctlError as error:
            with state.lock:
                state.set_checks((), f"not judged: {error.message}")
            self._judge_due = now + JUDGE_EVERY_S
            return
        took_s = time.monotonic() - now
        self._judge_due = now + max(JUDGE_EVERY_S, JUDGE_COST_FACTOR * took_s)
        self._judged_lines = len(lines)
        measured_s = len({line.t for line in lines})
        with state.lock:
            state.set_checks(
                check_views(checks),
                f"provisional: judged on the {measured_s} s measured so far "
                f"(at {time.strftime('%H:%M:%S')}); the verdict comes when the run ends",
            )

    def _ending(self, run_dir: Path, record: RunRecord) -> None:
        """The run has ended: its verdict and report, once perfctl has written them."""
        try:
            verdict = read_verdict(run_dir)
        except RunDirError:
            verdict = None  # being written: next turn
        report = (run_dir / REPORT_FILE).is_file()
        ending = Ending(
            status=record.status,
            reason=record.exit_reason,
            verdict=verdict.status if verdict is not None else None,
            report=report,
        )
        with self.state.lock:
            if verdict is not None:
                self.state.set_checks(check_views(verdict.checks), "the verdict: final")
            self.state.finish(ending)
        self.done = verdict is not None and report

    # -- the thread -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="perfctl-live-feed", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception as error:  # the live view must never stop the run
                with self.state.lock:
                    self.state.checks_note = f"live view error: {type(error).__name__}: {error}"
            self.publish()
            self._stop.wait(TURN_S)

    def stop(self) -> None:
        """One last turn (the final state), then the thread ends."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.step()
        finally:
            self.publish()
