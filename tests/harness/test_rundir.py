from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.errors import RunDirError, UsageError
from harness.rundir import (
    RUN_FILE,
    RunRecord,
    WorkerEvent,
    create_run_dir,
    iso_utc,
    make_run_id,
    read_run_record,
    validate_run_id,
    write_run_record,
)

MOMENT = datetime(2026, 11, 27, 5, 50, 46, 123456, tzinfo=UTC)


def _record(**changes: object) -> RunRecord:
    fields: dict[str, object] = {
        "run_id": "r1",
        "status": "completed",
        "scenario": "smoke",
        "profile": "smoke",
        "target": "http://127.0.0.1:8000",
        "target_embedded": True,
        "plan": {"scenario": "smoke"},
        "scale": {"users": 0.1, "rate": 0.1, "time": 0.01},
        "planned_duration_s": 20.0,
        "started_at": iso_utc(MOMENT),
        "workers_expected": 0,
        "versions": {"perfctl": "0.1.0"},
        "host": {"hostname": "h"},
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
    data = read_run_record(tmp_path)
    assert data["status"] == "completed"
    assert data["worker_events"] == [{"t": 1.5, "kind": "worker_lost", "detail": "worker-1"}]
    assert data["tags"] == {"build": "42"}
    assert not list(tmp_path.glob(".*partial"))


def test_missing_run_record_names_the_directory(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match=r"run\.json is missing"):
        read_run_record(tmp_path)


def test_run_record_of_another_schema_is_refused(tmp_path: Path) -> None:
    (tmp_path / RUN_FILE).write_text(json.dumps({"schema": 99}))
    with pytest.raises(RunDirError, match="schema 1"):
        read_run_record(tmp_path)
