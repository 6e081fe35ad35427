"""A team's LoadTestShape driving a closed-model run that has no stages of its own.

`PlanShape` stays Locust's shape class (it keeps the run's clock, stages, graceful stop and
end); it asks `TeamShape` for the users and spawn rate at each tick. The team's shape reads
the plan's clock (offset 0 is the run's first whole second) through its own
`get_run_time()`, divided by the profile's time factor, so a profile that shortens the run
plays the whole shape faster; its users are multiplied by the profile's users factor (at
least one user while it asks for any). User classes the shape returns are the team's own;
perfctl's `JourneyUser` joins them when the scenario mixes in other journeys.
"""

from __future__ import annotations

from typing import Any

from locust import LoadTestShape, User

from harness.plan import RunPlan

ShapeTick = tuple[int, float, list[type[User]]]
"""Users, spawn rate (users/s) and the User classes to spread them over."""


class TeamShape:
    """A team's LoadTestShape on the plan's clock and scale."""

    def __init__(
        self,
        shape_class: type[LoadTestShape],
        plan: RunPlan,
        default_classes: list[type[User]],
        journey_class: type[User] | None,
    ) -> None:
        self.shape = shape_class()
        self.plan = plan
        self.default_classes = default_classes
        """The classes when the shape names none (the weighted mix)."""
        self.journey_class = journey_class
        """perfctl's journey user, added to classes the shape names (None: no other journeys)."""
        self.peak_users = 0
        """The most users the shape has asked for so far."""
        self.clock_offset_s = 0.0

    def start(self, runner: Any, start_time: float) -> None:
        """Aligns the shape's own clock with the run's offset 0."""
        self.shape.runner = runner
        self.shape.start_time = start_time
        # the shape's run time is the plan's offset on the profile's time scale
        self.shape.get_run_time = self._run_time  # type: ignore[method-assign]

    def _run_time(self) -> float:
        return self.clock_offset_s / max(self.plan.scale.time, 1e-9)

    def tick(self, offset_s: float) -> ShapeTick | None:
        """The shape's answer at `offset_s` into the run, scaled; None once it has ended."""
        self.clock_offset_s = max(offset_s, 0.0)
        answer = self.shape.tick()
        if answer is None:
            return None
        users, spawn_rate_per_s = int(answer[0]), float(answer[1])
        named = list(answer[2]) if len(answer) > 2 and answer[2] else None
        scale = self.plan.scale
        if users > 0 and scale.users != 1.0:
            users = max(1, round(users * scale.users))
        spawn_rate_per_s = max(spawn_rate_per_s * scale.users / max(scale.time, 1e-9), 1e-3)
        self.peak_users = max(self.peak_users, users)
        if named is None:
            classes = list(self.default_classes)
        else:
            extra = [self.journey_class] if self.journey_class is not None else []
            classes = [*named, *(c for c in extra if c not in named)]
        return users, spawn_rate_per_s, classes
