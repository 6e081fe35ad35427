"""How a run ends: the watch's ending and what the engine said become the status, the cause and
the reason run.json records."""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import BackendError, EngineError, PerfctlError, TargetUnreachableError
from harness.rundir import EndCause, RunStatus
from harness.timeline import EngineSummary


@dataclass(frozen=True, slots=True)
class Ending:
    """How the watch over the Locust processes ended."""

    status: RunStatus = "completed"
    """completed when the engine ended the test by itself; aborted or failed otherwise."""
    cause: EndCause = EndCause.PLAN_FINISHED
    """Why it ended, as a value."""
    reason: str = "the plan finished"
    """Why it ended, a sentence for run.json."""

    @property
    def interrupted(self) -> bool:
        """True when Ctrl-C or SIGTERM ended it."""
        return self.cause is EndCause.INTERRUPTED


@dataclass(frozen=True, slots=True)
class FinalStatus:
    """How a run ended, as run.json records it."""

    status: RunStatus
    """Final status."""
    cause: EndCause
    """Why, as a value code decides on."""
    reason: str
    """Why, in words."""


STATUS_OF_STOP: dict[EndCause, RunStatus] = {
    EndCause.INTERRUPTED: "aborted",
    EndCause.ABORT_ON_BREACH: "aborted",
    EndCause.WORKERS_LOST: "aborted",
    EndCause.DEADLINE: "failed",
}
"""The status of a run the runner stopped, by why it stopped it."""


def decide_status(
    ending: Ending,
    engine: EngineSummary | None,
    *,
    workers_lost: int,
    workers_expected: int,
    engine_failure: str,
) -> FinalStatus:
    """The run's final status, cause and reason, from how the watch ended and what the
    engine said."""
    if ending.status != "completed":
        return FinalStatus(ending.status, ending.cause, ending.reason)
    if engine is None:
        return FinalStatus("failed", EndCause.ENGINE_FAILED, engine_failure)
    if workers_expected and workers_lost >= workers_expected:
        # the master may end the test itself when its last worker goes missing
        return FinalStatus("aborted", EndCause.WORKERS_LOST, "every worker was lost")
    if engine.status == "aborted":
        reason = f"the engine aborted: {engine.reason or 'no reason given'}"
        return FinalStatus("aborted", EndCause.ENGINE_ABORTED, reason)
    if workers_lost:
        reason = f"{workers_lost} of {workers_expected} workers lost; the others went on"
        return FinalStatus("degraded", EndCause.PLAN_FINISHED, reason)
    return FinalStatus("completed", EndCause.PLAN_FINISHED, ending.reason)


def failure_cause(error: PerfctlError) -> EndCause:
    """The end cause of a run stopped by `error`."""
    if isinstance(error, TargetUnreachableError | BackendError):
        return EndCause.TARGET_FAILED
    if isinstance(error, EngineError):
        return EndCause.ENGINE_FAILED
    return EndCause.RUN_FAILED
