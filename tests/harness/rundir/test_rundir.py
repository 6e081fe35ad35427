from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.errors import RunDirError, UsageError
from harness.rundir import (
    RUN_FILE,
    EndCause,
    RunnerProcess,
    RunRecord,
    WorkerEvent,
    create_run_dir,
    iso_utc,
    make_run_id,
    open_run_dir,
    read_run_record,
    validate_run_id,
    write_run_record,
)
from harness.timeline import EngineSummary, RunDirWriter
from tests.harness._synthetic_run import simple_plan

MOMENT = datetime(2026, 11, 27, 5, 50, 46, 123456, tzinfo=UTC)


def _record(**changes: object) -> RunRecord:
    fields: dict[str, object] = {
        "run_id": "r1",
        "status": "completed",
        "scenario": "smoke",
        "profile": "smoke",
        "target": "http://127.0.0.1:8000",
        "target_embedded": True,
        "plan": simple_plan().to_dict(),
        "scale": {"users": 0.1, "rate": 0.1, "time": 0.01},
        "planned_duration_s": 20.0,
        "started_at": iso_utc(MOMENT),
        "workers_expected": 0,
        "versions": {"perfctl": "0.1.0"},
        "host": {"hostname": "h"},
        "ended_at": iso_utc(MOMENT),
        "duration_s": 21.5,
        "exit_reason": "the plan finished",
        "end_cause": EndCause.PLAN_FINISHED,
    }
    fields.update(changes)
    return RunRecord(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("normal", "20261127T055046Z-normal"),
        ("scenarios/peak.yaml", "20261127T055046Z-peak"),
        ("my locustfile.py", "20261127T055046Z-my-locustfile"),
        ("///", "20261127T055046Z-run"),
    ],
)
def test_run_id_is_utc_time_then_scenario(scenario: str, expected: str) -> None:
    assert make_run_id(scenario, MOMENT) == expected


def test_iso_utc_has_milliseconds_and_z() -> None:
    assert iso_utc(MOMENT) == "2026-11-27T05:50:46.123Z"


@pytest.mark.parametrize("bad", ["", "..", "a/b", "-lead", "x" * 129, "sp ace"])
def test_bad_run_ids_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError, match="--run-id"):
        validate_run_id(bad)


def test_a_run_directory_is_not_reused(tmp_path: Path) -> None:
    run_dir = create_run_dir(tmp_path, "r1")
    assert (run_dir / "logs").is_dir()
    write_run_record(run_dir, _record())
    with pytest.raises(UsageError, match="already holds a run"):
        create_run_dir(tmp_path, "r1")


def test_run_record_round_trips_with_schema_first(tmp_path: Path) -> None:
    event = WorkerEvent(t=1.5, kind="worker_lost", detail="worker-1")
    write_run_record(tmp_path, _record(worker_events=(event,), tags={"build": "42"}))
    text = (tmp_path / RUN_FILE).read_text()
    assert next(iter(json.loads(text))) == "schema"
    record = read_run_record(tmp_path)
    written = _record(worker_events=(event,), tags={"build": "42"})
    assert json.dumps(record.to_dict()) == json.dumps(written.to_dict())
    assert record.worker_events == (event,)
    assert record.end_cause is EndCause.PLAN_FINISHED
    assert not list(tmp_path.glob(".*partial"))


def test_missing_run_record_names_the_directory(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match=r"run\.json is missing"):
        read_run_record(tmp_path)


def test_run_record_of_another_schema_is_refused(tmp_path: Path) -> None:
    (tmp_path / RUN_FILE).write_text(json.dumps({"schema": 99}))
    with pytest.raises(RunDirError, match="schema 1"):
        read_run_record(tmp_path)


def _written(tmp_path: Path, **changes: object) -> dict[str, object]:
    write_run_record(tmp_path, _record())
    data: dict[str, object] = json.loads((tmp_path / RUN_FILE).read_text())
    for key, value in changes.items():
        if value is _DELETE:
            del data[key]
        else:
            data[key] = value
    (tmp_path / RUN_FILE).write_text(json.dumps(data, indent=2))
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": 123}, r"run\.json:\d+: status must be one of 'running', .*got 123"),
        ({"status": "done"}, r"status must be one of .*got 'done'"),
        ({"interrupted": "no"}, r"run\.json:\d+: interrupted must be true or false, got 'no'"),
        ({"workers_lost": -1}, r"workers_lost must be a non-negative integer, got -1"),
        ({"started_at": "yesterday"}, r"started_at must be an ISO-8601 time"),
        ({"end_cause": "tired"}, r"end_cause must be one of .*'plan_finished'"),
        ({"duration_s": _DELETE}, r"run\.json: duration_s is missing"),
        ({"status": "aborted"}, r"status aborted cannot have end_cause plan_finished"),
        ({"status": "running"}, r"status is running, yet ended_at and duration_s say"),
        ({"interrupted": True}, r"interrupted is true, yet end_cause is plan_finished"),
        ({"processes": [{"role": "x"}]}, r"processes\.0\.pid is missing"),
        ({"plan": {"stages": 3}}, r"plan\.\S+ (is missing|must be)"),
    ],
)
def test_a_corrupt_run_record_is_a_run_dir_error_naming_the_field(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    _written(tmp_path, **changes)
    with pytest.raises(RunDirError, match=message):
        open_run_dir(tmp_path)


def test_a_cut_run_record_names_its_line(tmp_path: Path) -> None:
    write_run_record(tmp_path, _record())
    text = (tmp_path / RUN_FILE).read_text()
    (tmp_path / RUN_FILE).write_text(text[: len(text) // 2])
    with pytest.raises(RunDirError, match=r"run\.json:\d+: not valid JSON"):
        read_run_record(tmp_path)


def _running(tmp_path: Path, runner: RunnerProcess | None) -> None:
    running = _record(status="running", ended_at=None, duration_s=None, end_cause=None)
    write_run_record(tmp_path, running if runner is None else _with_runner(running, runner))


def _with_runner(record: RunRecord, runner: RunnerProcess) -> RunRecord:
    from dataclasses import replace

    return replace(record, runner=runner)


def test_a_run_whose_perfctl_was_killed_is_recognised(tmp_path: Path) -> None:
    gone = RunnerProcess(pid=os.getpid(), hostname=socket.gethostname(), started_at=1.0)
    _running(tmp_path, gone)  # this pid, but a process started at another time: not ours
    run = open_run_dir(tmp_path)
    assert run.killed
    assert run.run_status == "killed"
    assert run.end_cause is EndCause.KILLED
    assert any("perfctl was killed during the run" in note for note in run.notes)


def test_a_run_still_going_is_refused(tmp_path: Path) -> None:
    _running(tmp_path, RunnerProcess.this_process())
    with pytest.raises(RunDirError, match=r"still running \(perfctl pid \d+"):
        open_run_dir(tmp_path)
    elsewhere = RunnerProcess(pid=1, hostname="another-machine", started_at=1.0)
    _running(tmp_path, elsewhere)
    with pytest.raises(RunDirError, match=r"still running on another machine"):
        open_run_dir(tmp_path)


def test_engine_json_must_match_what_run_json_recorded(tmp_path: Path) -> None:
    writer = RunDirWriter(tmp_path)
    writer.write_engine(EngineSummary("completed", "done", 1.0, 2.0))
    write_run_record(tmp_path, _record())  # records no engine summary
    with pytest.raises(RunDirError, match=r"engine\.json does not match .*run\.json recorded none"):
        open_run_dir(tmp_path)


def test_a_killed_engine_leaves_a_cut_line_that_is_reported(tmp_path: Path) -> None:
    _running(
        tmp_path, RunnerProcess(pid=os.getpid(), hostname=socket.gethostname(), started_at=1.0)
    )
    (tmp_path / "timeline.jsonl").write_text('{"t": 1, "op"')
    run = open_run_dir(tmp_path)
    assert any(note.startswith("timeline.jsonl:1: the last line was cut off") for note in run.notes)
    assert list(run.windows()) == []


def test_plan_json_must_be_the_plan_run_json_recorded(tmp_path: Path) -> None:
    write_run_record(tmp_path, _record())
    plan = simple_plan().to_dict()
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=2))
    assert open_run_dir(tmp_path).plan == simple_plan()
    (tmp_path / "plan.json").write_text(json.dumps({**plan, "warmup_s": "soon"}, indent=2))
    with pytest.raises(RunDirError, match=r"plan\.json:\d+: warmup_s must be a number"):
        open_run_dir(tmp_path)
    (tmp_path / "plan.json").write_text(json.dumps({**plan, "warmup_s": 99.0}, indent=2))
    with pytest.raises(RunDirError, match=r"plan\.json is not the plan run\.json recorded"):
        open_run_dir(tmp_path)
