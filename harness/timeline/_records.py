"""The per-second load sample, the engine event and the engine summary of a run directory."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

EventKind = Literal[
    "worker_joined",
    "worker_lost",
    "generator_saturated",
    "behind_plan",
    "stage_started",
    "stopping",
    "abort",
    "arrivals_dropped",
]
EngineStatus = Literal["completed", "aborted"]


@dataclass(frozen=True, slots=True)
class LoadSample:
    """What the generator offered in one second (one load.jsonl line)."""

    t: int
    """Window start, unix seconds."""
    stage: str | None
    """Stage of the plan running at that second, None after the last."""
    users: int | None
    """Closed model: users running (None in the open model)."""
    planned_arrivals: int | None
    """Open model: arrivals the plan asks for in that second, the integral of its rate
    (None in the closed model)."""
    started_arrivals: int | None
    """Open model: journeys actually started in that second."""
    dropped_arrivals: int
    """Open model: arrivals not started because every journey slot was busy (both causes)."""
    achieved_rps: float
    """Requests completed in that second, every operation except `journey.*`."""
    workers: int
    """Load-generating processes reporting (1 in local mode)."""
    cpu_percent: dict[str, float] = field(default_factory=dict)
    """CPU of every Locust process ("master", "local", "worker-1", ...), percent of one core."""
    dropped_by_target: int = 0
    """Open model: the part of `dropped_arrivals` dropped while every busy slot was waiting
    on a response (the target is slow: counted as `dropped` requests in the timeline); the
    rest was the generator's shortfall (slots busy in think time or a starved scheduler)."""

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

    t: float
    """Unix time, seconds."""
    kind: EventKind
    """What happened."""
    detail: str = ""
    """A sentence for the person reading the report."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineEvent:
        return cls(t=float(data["t"]), kind=data["kind"], detail=str(data.get("detail", "")))


@dataclass(frozen=True, slots=True)
class EngineSummary:
    """How the engine ended (engine.json)."""

    status: EngineStatus
    """completed: the plan ran to its end; aborted: stopped before (signal, lost workers)."""
    reason: str
    """Why it ended, in words."""
    started_at: float
    """Unix time the load started (offset 0 of the plan's stages)."""
    ended_at: float
    """Unix time the engine stopped."""
    workers_lost: int = 0
    """Workers that went missing or quit before the end."""
    saturated: bool = False
    """A generator process ran above the CPU threshold for a sustained time."""
    behind_plan: bool = False
    """Started arrivals or users stayed below the plan for a sustained time."""
    locust_version: str = ""
    """Version of Locust that generated the load."""
    planned_arrivals: int | None = None
    """Open model: arrivals the plan asks for up to the engine's end."""
    started_arrivals: int | None = None
    """Open model: arrivals started over the whole run."""
    dropped_arrivals: int = 0
    """Open model: arrivals dropped because every journey slot was busy."""
    dropped_by_target: int = 0
    """Open model: the part of `dropped_arrivals` the target caused (see LoadSample)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineSummary:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})
