"""The run directory: where one run's plan, measurements, logs and record live, and the one
typed way to read it back.

    RUN_DIR/
    ├── plan.json        the resolved RunPlan the engine executes (RunPlan.to_dict())
    ├── run.json         the run record (RunRecord), written at start and at the end
    ├── timeline.jsonl   per (second, operation) measurements, format in harness/timeline
    ├── load.jsonl       per second offered/achieved load, users, workers, generator CPU
    ├── events.jsonl     worker_joined, worker_lost, generator_saturated, stage_started, ...
    ├── engine.json      the engine's own end-of-run summary, with what it wrote to each line
    │                    file (absent if it never finished)
    └── logs/            stdout+stderr of every process: backend.log, local.log, master.log,
                         worker-1.log, ...

The engine writes timeline/load/events/engine.json; the runner writes everything else.
Everything that judges or shows a run reads it through `open_run_dir` (a `RunDir`): run.json
into `RunRecord`, engine.json into `EngineSummary`, each line into its record, all strictly;
every malformed, truncated or inconsistent artefact is a RunDirError (exit 3) naming the file,
the line and the field.
"""

from harness.rundir._layout import (
    LOGS_DIR,
    PLAN_FILE,
    RUN_FILE,
    create_run_dir,
    iso_utc,
    make_run_id,
    utc_now,
    validate_run_id,
    write_json_atomically,
)
from harness.rundir._reader import RunDir, open_run_dir
from harness.rundir._record import (
    CAUSES_BY_STATUS,
    RUN_SCHEMA_VERSION,
    EndCause,
    ProcessRecord,
    RunnerProcess,
    RunRecord,
    RunStatus,
    WorkerEvent,
    read_run_record,
    write_run_record,
)

__all__ = [
    "CAUSES_BY_STATUS",
    "LOGS_DIR",
    "PLAN_FILE",
    "RUN_FILE",
    "RUN_SCHEMA_VERSION",
    "EndCause",
    "ProcessRecord",
    "RunDir",
    "RunRecord",
    "RunStatus",
    "RunnerProcess",
    "WorkerEvent",
    "create_run_dir",
    "iso_utc",
    "make_run_id",
    "open_run_dir",
    "read_run_record",
    "utc_now",
    "validate_run_id",
    "write_json_atomically",
    "write_run_record",
]
