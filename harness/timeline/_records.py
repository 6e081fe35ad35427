"""The per-second load sample, the engine event and the engine summary of a run directory."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import ConfigDict

from harness.timeline._validate import Count

NonNegative = Annotated[float, Ge(0)]
"""A measure that cannot be below zero (and is never NaN)."""

EventKind = Literal[
    "worker_joined",
    "worker_lost",
    "generator_saturated",
    "behind_plan",
    "stage_started",
    "stopping",
    "abort",
    "arrivals_dropped",
    "data_exhausted",
]
EngineStatus = Literal["completed", "aborted"]


@dataclass(frozen=True, slots=True)
class LoadSample:
    """What the generator offered in one second (one load.jsonl line)."""

    t: Count
    """Window start, unix seconds."""
    stage: str | None
    """Stage of the plan running at that second, None after the last."""
    users: Count | None
    """Closed model: users running (None in the open model)."""
    planned_arrivals: Count | None
    """Open model: arrivals the plan asks for in that second, the integral of its rate
    (None in the closed model)."""
    started_arrivals: Count | None
    """Open model: journeys actually started in that second."""
    dropped_arrivals: Count
    """Open model: arrivals not started because every journey slot was busy (both causes)."""
    achieved_rps: NonNegative
    """Requests completed in that second, every operation except `journey.*`."""
    workers: Count
    """Load-generating processes reporting (1 in local mode)."""
    cpu_percent: dict[str, NonNegative] = field(default_factory=dict)
    """CPU of every Locust process ("master", "local", "worker-1", ...), percent of one core."""
    dropped_by_target: Count = 0
    """Open model: the part of `dropped_arrivals` dropped while every busy slot was waiting
    on a response (the target is slow: counted as `dropped` requests in the timeline); the
    rest was the generator's shortfall (slots busy in think time or a starved scheduler)."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadSample:
        return cls(
            t=int(data["t"]),
            stage=data.get("stage"),
            users=data.get("users"),
            planned_arrivals=data.get("planned_arrivals"),
            started_arrivals=data.get("started_arrivals"),
            dropped_arrivals=int(data.get("dropped_arrivals") or 0),
            achieved_rps=float(data.get("achieved_rps") or 0.0),
            workers=int(data.get("workers") or 0),
            cpu_percent={str(k): float(v) for k, v in (data.get("cpu_percent") or {}).items()},
            dropped_by_target=int(data.get("dropped_by_target") or 0),
        )


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """Something that happened to the generator (one events.jsonl line)."""

    t: NonNegative
    """Unix time, seconds."""
    kind: EventKind
    """What happened."""
    detail: str = ""
    """A sentence for the person reading the report."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineEvent:
        return cls(t=float(data["t"]), kind=data["kind"], detail=str(data.get("detail", "")))


@dataclass(frozen=True, slots=True)
class FileTally:
    """What a writer put into one line file of the run directory."""

    lines: Count
    """Lines written (each ends with a newline)."""
    bytes: Count
    """Bytes written, newlines included: the file's size."""
    requests: Count | None = None
    """timeline.jsonl: requests over every line (the sum of every outcome count)."""

    __pydantic_config__ = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class EngineSummary:
    """How the engine ended (engine.json)."""

    status: EngineStatus
    """completed: the plan ran to its end; aborted: stopped before (signal, lost workers)."""
    reason: str
    """Why it ended, in words."""
    started_at: NonNegative
    """Unix time the load started (offset 0 of the plan's stages)."""
    ended_at: NonNegative
    """Unix time the engine stopped."""
    workers_lost: Count = 0
    """Workers that went missing or quit before the end."""
    saturated: bool = False
    """A generator process ran above the CPU threshold for a sustained time."""
    behind_plan: bool = False
    """Started arrivals or users stayed below the plan for a sustained time."""
    locust_version: str = ""
    """Version of Locust that generated the load."""
    planned_arrivals: Count | None = None
    """Open model: arrivals the plan asks for up to the engine's end."""
    started_arrivals: Count | None = None
    """Open model: arrivals started over the whole run."""
    dropped_arrivals: Count = 0
    """Open model: arrivals dropped because every journey slot was busy."""
    dropped_by_target: Count = 0
    """Open model: the part of `dropped_arrivals` the target caused (see LoadSample)."""
    files: dict[str, FileTally] | None = None
    """What the engine's writer wrote to each line file (timeline.jsonl, load.jsonl,
    events.jsonl), so a reader can tell a complete file from one cut or changed since;
    filled in by `RunDirWriter.write_engine`. None in run directories of older versions."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineSummary:
        """An engine summary from a dict (strict: a MalformedError names the bad field)."""
        from harness.timeline._validate import parse_python

        return parse_python(cls, data)
