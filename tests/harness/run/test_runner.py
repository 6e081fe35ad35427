"""The runner against real Locust processes (a stand-in engine) and a real tiny target."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import EngineError, InterruptedRunError
from harness.redaction import redact_url
from harness.run._ending import Ending, FinalStatus, decide_status
from harness.run._runner import RunRequest, run
from harness.rundir import EndCause, RunRecord, read_run_record
from harness.timeline import EngineSummary, read_timeline
from tests.harness.run._support import (
    FAKE_ENGINE,
    start_tiny_target,
    tiny_plan,
    tiny_target,
    write_plan,
)


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    with tiny_target() as url:
        yield url


def _request(tmp_path: Path, target: str, **changes: object) -> RunRequest:
    plan_file = write_plan(tmp_path / "tiny-plan.json", tiny_plan(users=2, run_time_s=4.0))
    fields: dict[str, object] = {
        "scenario": str(plan_file),
        "target": target,
        "out_dir": tmp_path / "reports",
        "run_id": "r1",
        "quiet": True,
    }
    fields.update(changes)
    return RunRequest(**fields)  # type: ignore[arg-type]


def _when_running(run_dir: Path, action: object, after_s: float) -> threading.Thread:
    """Call `action(run_record)` `after_s` after the first second of load was recorded
    (Locust handles SIGTERM only once it has started)."""

    def wait_then_act() -> None:
        give_up_at = time.monotonic() + 30
        while time.monotonic() < give_up_at:
            try:
                record: RunRecord | None = read_run_record(run_dir)
            except Exception:
                record = None
            loaded = (run_dir / "load.jsonl").exists()
            if loaded and record and record.processes and record.status == "running":
                time.sleep(after_s)
                action(record)  # type: ignore[operator]
                return
            time.sleep(0.05)

    thread = threading.Thread(target=wait_then_act, daemon=True)
    thread.start()
    return thread


def test_a_completed_run_leaves_a_complete_run_directory(tmp_path: Path, target: str) -> None:
    secret_target = target.replace("http://", "http://bob:s3cret@")
    result = run(_request(tmp_path, secret_target, tags={"build": "42"}), locustfile=FAKE_ENGINE)
    run_dir = tmp_path / "reports" / "r1"
    assert result.run_dir == run_dir
    record = read_run_record(run_dir)
    assert record.status == "completed"
    assert record.end_cause is EndCause.PLAN_FINISHED
    assert record.exit_reason == "the plan finished"
    assert record.runner is not None
    assert record.runner.pid == os.getpid()
    assert record.target == redact_url(secret_target)
    assert "s3cret" not in record.target
    assert record.tags == {"build": "42"}
    assert record.versions["locust"].startswith("2.")
    assert record.plan["stages"][0]["users_end"] == 2
    assert record.scale == {"users": 1.0, "rate": 1.0, "time": 1.0}
    assert record.engine is not None
    assert record.engine.status == "completed"
    assert [p.role for p in record.processes] == ["local"]
    assert record.processes[0].exit_code == 0
    assert record.duration_s is not None
    assert 3.5 < record.duration_s < 30
    for name in ("plan.json", "run.json", "timeline.jsonl", "load.jsonl", "logs/local.log"):
        assert (run_dir / name).is_file(), name
        assert "s3cret" not in (run_dir / name).read_text()
    assert json.loads((run_dir / "plan.json").read_text())["target"] == record.target


def test_a_killed_worker_marks_the_run_degraded(tmp_path: Path, target: str) -> None:
    request = _request(tmp_path, target, workers=2)
    write_plan(Path(request.scenario), tiny_plan(users=4, run_time_s=7.0))

    def kill_worker_1(record: RunRecord) -> None:
        pid = next(p.pid for p in record.processes if p.role == "worker-1")
        os.kill(pid, signal.SIGKILL)

    killer = _when_running(tmp_path / "reports" / "r1", kill_worker_1, after_s=2.0)
    result = run(request, locustfile=FAKE_ENGINE)
    killer.join()
    record = read_run_record(result.run_dir)
    assert record.status == "degraded"
    assert record.end_cause is EndCause.PLAN_FINISHED
    assert record.workers_lost == 1
    assert any(e.kind == "worker_exited" and "worker-1" in e.detail for e in record.worker_events)
    roles = {p.role: p.exit_code for p in record.processes}
    assert roles["worker-1"] == -signal.SIGKILL
    assert roles["worker-2"] == 0


def test_losing_every_worker_aborts_the_run(tmp_path: Path, target: str) -> None:
    request = _request(tmp_path, target, workers=1)
    write_plan(Path(request.scenario), tiny_plan(users=2, run_time_s=20.0))

    def kill_the_worker(record: RunRecord) -> None:
        os.kill(next(p.pid for p in record.processes if p.role == "worker-1"), signal.SIGKILL)

    killer = _when_running(tmp_path / "reports" / "r1", kill_the_worker, after_s=1.0)
    started = time.monotonic()
    with pytest.raises(EngineError, match="every worker was lost"):
        run(request, locustfile=FAKE_ENGINE)
    killer.join()
    assert time.monotonic() - started < 18
    record = read_run_record(tmp_path / "reports" / "r1")
    assert record.status == "aborted"
    assert record.end_cause is EndCause.WORKERS_LOST
    assert record.interrupted is False
    assert record.ended_at is not None


def test_first_interrupt_stops_the_load_and_keeps_what_was_measured(
    tmp_path: Path, target: str
) -> None:
    request = _request(tmp_path, target)
    write_plan(Path(request.scenario), tiny_plan(users=2, run_time_s=30.0))
    interrupter = _when_running(
        tmp_path / "reports" / "r1", lambda _: os.kill(os.getpid(), signal.SIGINT), after_s=1.5
    )
    started = time.monotonic()
    with pytest.raises(InterruptedRunError):
        run(request, locustfile=FAKE_ENGINE)
    interrupter.join()
    assert time.monotonic() - started < 20
    run_dir = tmp_path / "reports" / "r1"
    record = read_run_record(run_dir)
    assert record.status == "aborted"
    assert record.end_cause is EndCause.INTERRUPTED
    assert record.interrupted is True
    assert record.exit_reason == "interrupted by SIGINT"
    assert record.ended_at is not None
    assert record.engine is not None  # the engine flushed and said goodbye
    assert (run_dir / "timeline.jsonl").stat().st_size > 0


def test_second_interrupt_exits_at_once_and_still_says_interrupted(
    tmp_path: Path, target: str
) -> None:
    request = _request(tmp_path, target)
    write_plan(Path(request.scenario), tiny_plan(users=2, run_time_s=30.0))

    def interrupt_twice(_: object) -> None:
        # back to back: both arrive before the graceful stop could finish
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)

    interrupter = _when_running(tmp_path / "reports" / "r1", interrupt_twice, after_s=1.0)
    with pytest.raises(InterruptedRunError):
        run(request, locustfile=FAKE_ENGINE)
    interrupter.join()
    record = read_run_record(tmp_path / "reports" / "r1")
    assert record.status == "aborted"
    assert record.end_cause is EndCause.INTERRUPTED
    assert record.interrupted is True
    # Python runs pending handlers in signal-number order: either may count as the first
    assert record.exit_reason in ("interrupted by SIGTERM", "interrupted by SIGINT")
    (local,) = record.processes
    assert local.exit_code == -signal.SIGKILL  # killed at once, not stopped gracefully


def test_a_target_that_dies_mid_run_shows_as_connection_errors(tmp_path: Path) -> None:
    url, server = start_tiny_target()
    try:
        request = _request(tmp_path, url)
        write_plan(Path(request.scenario), tiny_plan(users=2, run_time_s=6.0))
        killer = _when_running(tmp_path / "reports" / "r1", lambda _: server.kill(), after_s=1.5)
        result = run(request, locustfile=FAKE_ENGINE)
        killer.join()
    finally:
        server.kill()
        server.wait()
    assert result.record.status == "completed"
    counts = read_timeline(result.run_dir).counts("root")
    assert counts.ok > 0
    assert counts.connection_error > 0


def _engine(status: str = "completed", reason: str = "") -> EngineSummary:
    return EngineSummary(status, reason, 1.0, 2.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ending", "engine", "lost", "expected", "outcome"),
    [
        (
            Ending(),
            _engine(),
            0,
            0,
            FinalStatus("completed", EndCause.PLAN_FINISHED, "the plan finished"),
        ),
        (Ending(), None, 0, 0, FinalStatus("failed", EndCause.ENGINE_FAILED, "engine died")),
        (
            Ending(),
            _engine("aborted", "boom"),
            0,
            0,
            FinalStatus("aborted", EndCause.ENGINE_ABORTED, "the engine aborted: boom"),
        ),
        (
            Ending(),
            _engine(),
            1,
            2,
            FinalStatus(
                "degraded", EndCause.PLAN_FINISHED, "1 of 2 workers lost; the others went on"
            ),
        ),
        (
            Ending(),
            _engine(),
            2,
            2,
            FinalStatus("aborted", EndCause.WORKERS_LOST, "every worker was lost"),
        ),
        (
            Ending("aborted", EndCause.INTERRUPTED, "interrupted by SIGINT"),
            None,
            0,
            0,
            FinalStatus("aborted", EndCause.INTERRUPTED, "interrupted by SIGINT"),
        ),
        (
            Ending("failed", EndCause.DEADLINE, "deadline: x"),
            _engine(),
            0,
            0,
            FinalStatus("failed", EndCause.DEADLINE, "deadline: x"),
        ),
    ],
)
def test_final_status_follows_the_ending_the_engine_and_the_workers(
    ending: Ending, engine: EngineSummary | None, lost: int, expected: int, outcome: FinalStatus
) -> None:
    decided = decide_status(
        ending, engine, workers_lost=lost, workers_expected=expected, engine_failure="engine died"
    )
    assert decided == outcome


def test_the_end_cause_of_a_stop_never_depends_on_its_wording() -> None:
    """A reason that merely starts like another cause's sentence keeps its own cause."""
    ending = Ending("aborted", EndCause.ABORT_ON_BREACH, "interrupted by SIGINT, says the rule")
    assert not ending.interrupted
    decided = decide_status(
        ending, None, workers_lost=0, workers_expected=0, engine_failure="engine died"
    )
    assert decided.cause is EndCause.ABORT_ON_BREACH


def test_an_engine_that_dies_at_start_fails_the_run_with_its_last_words(
    tmp_path: Path, target: str
) -> None:
    broken = tmp_path / "broken_engine.py"
    broken.write_text('raise SystemExit("perfctl engine: the plan is unusable")\n')
    with pytest.raises(EngineError, match="the plan is unusable"):
        run(_request(tmp_path, target), locustfile=broken)
    record = read_run_record(tmp_path / "reports" / "r1")
    assert record.status == "failed"
    assert record.end_cause is EndCause.ENGINE_FAILED
    assert record.processes[0].exit_code == 1
    assert "exited with code 1 without finishing the run" in record.exit_reason
