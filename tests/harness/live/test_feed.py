"""The live feed follows a run directory as the engine writes it: figures, provisional
objective statuses while it runs, the verdict and the report once it has ended."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.live import LiveState
from harness.live import _feed as feed_module
from harness.live._feed import RunFeed
from harness.rundir import write_run_record
from harness.verdict import judge_run_dir
from tests.harness._synthetic_run import START_T
from tests.harness.live._support import GrowingRun


@pytest.fixture(autouse=True)
def judge_every_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed_module, "JUDGE_EVERY_S", 0.0)
    monkeypatch.setattr(feed_module, "JUDGE_COST_FACTOR", 0.0)


def _checks(state: LiveState) -> dict[str, str]:
    return {check.id: check.status for check in state.checks}


def test_the_feed_shows_each_second_and_judges_the_objectives_so_far(tmp_path: Path) -> None:
    run = GrowingRun(tmp_path / "r1")
    state = LiveState()
    feed = RunFeed(state)
    feed.follow(run.run_dir)
    feed.step()
    assert state.plan is not None
    assert state.load is None  # nothing measured yet
    for offset in range(5):
        run.second(offset, latency_ms=20.0)
    feed.step()
    snapshot = state.snapshot(START_T + 5.5)
    assert snapshot["status"] == "running"
    assert snapshot["elapsed_s"] == 5.5
    assert snapshot["totals"]["requests"] == 100
    assert snapshot["load"]["users"] == 10
    assert len(state.history) == 5
    assert _checks(state) == {"fast": "pass", "clean": "pass"}
    assert snapshot["checks"]["provisional"] is True
    assert "provisional" in snapshot["checks"]["note"]

    # the target slows down and fails: the provisional status follows the data so far
    for offset in range(5, 30):
        run.second(offset, latency_ms=400.0, failed=5)
    feed.step()
    assert _checks(state) == {"fast": "fail", "clean": "fail"}
    failed = next(c for c in state.checks if c.id == "fast")
    assert failed.limit == "< 100 ms"
    assert failed.measured.startswith("40")


def test_after_the_run_the_verdict_replaces_the_provisional_statuses(tmp_path: Path) -> None:
    run = GrowingRun(tmp_path / "r2")
    for offset in range(10):
        run.second(offset, latency_ms=20.0)
    state = LiveState()
    feed = RunFeed(state)
    feed.follow(run.run_dir)
    feed.step()
    assert state.ending is None
    write_run_record(run.run_dir, run.record("completed"))
    feed.step()
    assert state.ending is not None
    assert state.ending.verdict is None  # not judged yet
    assert not feed.done
    judge_run_dir(run.run_dir, find_capacity=False)
    (run.run_dir / "index.html").write_text("<html>report</html>")
    feed.step()
    assert feed.done
    ended = state.snapshot(START_T + 20.0)["ended"]
    assert ended == {
        "status": "completed",
        "reason": "the plan finished",
        "verdict": "pass",
        "report": "report/index.html",
    }
    assert state.snapshot(START_T + 20.0)["checks"]["provisional"] is False
    assert _checks(state) == {"fast": "pass", "clean": "pass"}


def test_an_unreadable_sla_is_said_on_the_page_not_raised(tmp_path: Path) -> None:
    run = GrowingRun(tmp_path / "r3")
    run.second(0, latency_ms=20.0)
    run.sla.write_text("version: 1\nobjectives: [")
    state = LiveState()
    feed = RunFeed(state)
    feed.follow(run.run_dir)
    feed.step()
    assert state.checks == ()
    assert state.checks_note.startswith("not judged: ")
