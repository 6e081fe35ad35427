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

Public names:

    open_run_dir(path) -> RunDir          the one way in: every artefact read strictly
    RunDir                                a run directory read back: record, plan, engine summary
    read_run_record(run_dir) -> RunRecord run.json alone, strictly (the live view, the runs index)
    write_run_record(run_dir, record)     run.json, written atomically
    RunRecord                             what run.json holds (pydantic, strict)
    RunStatus                             running | completed | aborted | failed | degraded
    EndCause                              why a run ended, as a value code decides on
    CAUSES_BY_STATUS                      the end causes each final status allows
    RunnerProcess                         the perfctl process that ran the load (pid, host)
    ProcessRecord                         one Locust or backend process and how it exited
    WorkerEvent                           a worker joining or lost
    RUN_SCHEMA_VERSION                    the version run.json carries
    PLAN_FILE, RUN_FILE, LOGS_DIR         names inside RUN_DIR
    create_run_dir(parent, run_id)        parent/run_id/logs; UsageError if it already holds a run
    make_run_id(scenario, started_at)     `<UTC time>-<scenario>`
    validate_run_id(run_id)               a run id that is one safe path component, or UsageError
    utc_now() / iso_utc(moment)           the clock and the ISO form run.json uses
    write_json_atomically(path, data)     JSON through a temporary file and a rename

A capacity directory (`perfctl capacity`) holds step run directories and capacity.json:

    read_capacity_record(dir) -> CapacityRecord   capacity.json, strictly
    CapacityRecord, CapacitySearch, CapacityKnee, CapacityStep, Scaling   what it holds
    CAPACITY_FILE, CAPACITY_SCHEMA        its name and schema version
    sla_digest(path)                      an SLA file's SHA-256 (ties a record to its SLA)
    is_capacity_dir(path)                 whether a directory holds capacity.json
    latest_capacity_dir(parent, target, sla_sha256)   the newest record for a target and SLA

Named baselines (`perfctl baseline`): BASELINES_DIR/<name>.json, and RUN_DIR/baseline.json:

    read_baseline(dir, name) / write_baseline(dir, manifest)   a baseline, strictly
    baseline_names(dir), baseline_file(dir, name), validate_baseline_name(name)
    BaselineManifest, BaselineRun, BaselineBand, BaselineSettings, RunKey, OperationFigures
    read_baseline_check(run_dir) / write_baseline_check(run_dir, check)   baseline.json
    BaselineCheck, FigureCheck, BASELINES_DIR, BASELINE_CHECK_FILE
"""

from harness.rundir._baseline import (
    BASELINE_CHECK_FILE,
    BASELINES_DIR,
    BaselineBand,
    BaselineCheck,
    BaselineManifest,
    BaselineRun,
    BaselineSettings,
    FigureCheck,
    OperationFigures,
    RunKey,
    baseline_file,
    baseline_names,
    read_baseline,
    read_baseline_check,
    validate_baseline_name,
    write_baseline,
    write_baseline_check,
)
from harness.rundir._capacity import (
    CAPACITY_FILE,
    CAPACITY_SCHEMA,
    CapacityKnee,
    CapacityRecord,
    CapacitySearch,
    CapacityStep,
    Scaling,
    is_capacity_dir,
    latest_capacity_dir,
    read_capacity_record,
    sla_digest,
)
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
    "BASELINES_DIR",
    "BASELINE_CHECK_FILE",
    "CAPACITY_FILE",
    "CAPACITY_SCHEMA",
    "CAUSES_BY_STATUS",
    "LOGS_DIR",
    "PLAN_FILE",
    "RUN_FILE",
    "RUN_SCHEMA_VERSION",
    "BaselineBand",
    "BaselineCheck",
    "BaselineManifest",
    "BaselineRun",
    "BaselineSettings",
    "CapacityKnee",
    "CapacityRecord",
    "CapacitySearch",
    "CapacityStep",
    "EndCause",
    "FigureCheck",
    "OperationFigures",
    "ProcessRecord",
    "RunDir",
    "RunKey",
    "RunRecord",
    "RunStatus",
    "RunnerProcess",
    "Scaling",
    "WorkerEvent",
    "baseline_file",
    "baseline_names",
    "create_run_dir",
    "is_capacity_dir",
    "iso_utc",
    "latest_capacity_dir",
    "make_run_id",
    "open_run_dir",
    "read_baseline",
    "read_baseline_check",
    "read_capacity_record",
    "read_run_record",
    "sla_digest",
    "utc_now",
    "validate_baseline_name",
    "validate_run_id",
    "write_baseline",
    "write_baseline_check",
    "write_json_atomically",
    "write_run_record",
]
