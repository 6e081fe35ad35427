"""What the runner asks of a watch that stops the load when an SLA breach has lasted.

The rule itself (which objectives abort, over which seconds, after how long) is the verdict's,
a later stage the run stage must not import; the runner only feeds a watch the timeline lines
as they are written and stops the load when it names a breach. The pipeline, above both
stages, hands the verdict's watch to `run`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from harness.plan import RunPlan
from harness.spec import Objective
from harness.timeline import WindowLine


class Breach(Protocol):
    """A breach that has lasted long enough to stop the run."""

    @property
    def reason(self) -> str:
        """One line for run.json and the verdict."""
        ...


class BreachWatch(Protocol):
    """Fed the timeline lines as they are written, says when a breach has lasted."""

    def __bool__(self) -> bool:
        """False when no objective is watched (the runner then reads no timeline)."""
        ...

    def observe(self, lines: Iterable[WindowLine]) -> None:
        """Take new timeline.jsonl lines."""
        ...

    def check(self, now_t: float) -> Breach | None:
        """The breach that has lasted by unix time `now_t`, or None."""
        ...


class StartBreachWatch(Protocol):
    """Builds the watch once the load starts (the verdict's `AbortWatch` class is one)."""

    def __call__(
        self, objectives: Iterable[Objective], plan: RunPlan, *, started_t: float
    ) -> BreachWatch:
        """A watch over `objectives` for a run of `plan` whose offset 0 is `started_t`."""
        ...
