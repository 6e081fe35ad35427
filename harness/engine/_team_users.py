"""A team's locustfile users under perfctl: loaded, weighted beside perfctl's journeys, and
run one arrival at a time under the open model.

Closed model: Locust runs the team's User classes itself (on_start, tasks with their
`wait_time`, on_stop). When the scenario mixes them with built-in or flow journeys, the
classes are weighted so each journey's share of the users is its weight's share: the
locustfile journey's weight is split between its classes by their own `weight` (classes
with `fixed_count` keep it: Locust starts them first), and `JourneyUser` gets the weight
of perfctl's journeys.

Open model: an arrival of a locustfile journey is a fresh user, a new instance of one of
the team's classes (picked by `weight`), so its own HTTP session and cookies. It runs
`on_start`, then ONE task picked by Locust's own selection (`DefaultTaskSet.get_next_task`:
the task weights), then `on_stop`. A task that is a nested TaskSet runs that set's
`on_start`, one task of it by the set's own selection, and its `on_stop`; a
SequentialTaskSet runs its tasks once, in order, with the user's `wait_time` between them
(one pass of the sequence is its iteration). The arrival's lag (start - intended start)
rides in every request's context (`LAG_CONTEXT_KEY`, through Locust's `User.context`), so
the recorder stores each latency corrected for coordinated omission beside its service
time. An arrival cut off by the end of the graceful stop runs no `on_stop`.

Both models: the users' clients point at the run's target (Locust sets every class's `host`
from the target) and time out after the plan's request timeout (FastHttpUser's connection
and network timeouts; HttpUser's requests get it as their default `timeout`).
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import random
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gevent import GreenletExit
from locust import LoadTestShape, SequentialTaskSet, TaskSet, User
from locust.clients import HttpSession
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import (
    InterruptTaskSet,
    RescheduleTask,
    RescheduleTaskImmediately,
    StopTest,
    StopUser,
)
from locust.user.task import LOCUST_STATE_RUNNING, DefaultTaskSet

from harness.engine._iteration import Slots
from harness.engine._recorder import LAG_CONTEXT_KEY
from harness.plan import JourneyPlan, RunPlan

logger = logging.getLogger(__name__)

_FLOW_CONTROL = (StopUser, StopTest, InterruptTaskSet, RescheduleTask, RescheduleTaskImmediately)
"""Exceptions a task raises to end itself or its user, not errors."""


@dataclass(slots=True)
class TeamLocustfile:
    """What the engine runs of a team's locustfile."""

    users: list[type[User]] = field(default_factory=list)
    """Its concrete User classes."""
    shape: type[LoadTestShape] | None = None
    """Its LoadTestShape, if it has exactly one."""


TEAM = TeamLocustfile()
"""The team's locustfile of this process's plan (empty when the plan runs none)."""


def load_team_locustfile(path: str) -> TeamLocustfile:
    """The User classes and LoadTestShape of a team's locustfile (imported under a private
    name), kept in `TEAM`."""
    source = Path(path)
    if not source.is_file():
        raise SystemExit(f"perfctl engine: locustfile {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"perfctl_team_{source.stem}", source)
    if spec is None or spec.loader is None:
        raise SystemExit(f"perfctl engine: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    classes = [value for value in vars(module).values() if inspect.isclass(value)]
    users = [
        value
        for value in classes
        if issubclass(value, User)
        and not getattr(value, "abstract", True)
        and value.__module__ == module.__name__
    ]
    if not users:
        raise SystemExit(f"perfctl engine: {path} defines no User class")
    # like Locust, a shape imported into the locustfile counts as its own
    shapes = [
        value
        for value in classes
        if issubclass(value, LoadTestShape) and not getattr(value, "abstract", True)
    ]
    TEAM.users = users
    TEAM.shape = shapes[0] if len(shapes) == 1 else None
    return TEAM


def adopt_team_users(plan: RunPlan) -> None:
    """Makes the team's users time out after the plan's request timeout."""
    timeout_s = plan.request_timeout_s
    for user_class in TEAM.users:
        if issubclass(user_class, FastHttpUser):
            user_class.network_timeout = user_class.connection_timeout = timeout_s
    _default_requests_timeout(timeout_s)


_requests_timeout_s: float | None = None


def _default_requests_timeout(timeout_s: float) -> None:
    """HttpUser's requests (python-requests waits forever by default) time out after
    `timeout_s` unless a request gives its own `timeout`."""
    global _requests_timeout_s
    if _requests_timeout_s is None:
        original: Callable[..., Any] = HttpSession.request

        def request(self: HttpSession, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", _requests_timeout_s)
            return original(self, method, url, *args, **kwargs)

        HttpSession.request = request  # type: ignore[method-assign]
    _requests_timeout_s = timeout_s


def closed_model_classes(plan: RunPlan, journey_class: type[User]) -> list[type[User]]:
    """The User classes of a closed-model plan that runs the team's locustfile: its classes,
    and `journey_class` when the plan mixes in built-in or flow journeys, weighted so each
    journey gets its weight's share of the users."""
    team_weight = sum(j.weight for j in plan.journeys if j.kind == "locustfile")
    own_weight = sum(j.weight for j in plan.journeys if j.kind != "locustfile")
    if own_weight <= 0:
        return list(TEAM.users)
    weighted = [c for c in TEAM.users if not c.fixed_count]
    class_total = sum(max(c.weight, 0) for c in weighted) or 1.0
    shares = {c: team_weight * max(c.weight, 0) / class_total for c in weighted}
    shares[journey_class] = own_weight
    # Locust's dispatcher spreads users by these weights; scaled so the smallest is 1, it
    # gives a small number of users the same split as whole-number weights would
    smallest = min((w for w in shares.values() if w > 0), default=1.0)
    for user_class, weight in shares.items():
        user_class.weight = weight / smallest
    return [*TEAM.users, journey_class]


def pick_team_class(rng: random.Random) -> type[User]:
    """The class of an open-model arrival: drawn by the classes' `weight` (Locust's
    probability of a class being chosen)."""
    users = TEAM.users
    if len(users) == 1:
        return users[0]
    weights = [max(float(c.weight), 0.0) for c in users]
    return rng.choices(users, weights if sum(weights) > 0 else None)[0]


def run_team_arrival(
    journey: JourneyPlan,
    environment: Any,
    rng: random.Random,
    *,
    intended_start: float,
    slots: Slots | None = None,
) -> None:
    """One open-model arrival of a locustfile journey: a fresh user runs on_start, one task
    and on_stop, every request carrying the lag behind `intended_start`."""
    lag_ms = max(time.time() - intended_start, 0.0) * 1000.0
    user_class = pick_team_class(rng)
    try:
        user = user_class(environment)
    except Exception as error:
        _report(environment, None, error, f"{user_class.__name__} could not start")
        return
    own_context = user.context
    user.context = lambda: {**own_context(), LAG_CONTEXT_KEY: lag_ms}  # type: ignore[method-assign]
    _count_awaiting(user, slots)
    _run_once(user, journey)


def _count_awaiting(user: User, slots: Slots | None) -> None:
    """Counts the user's requests awaiting a response in the driver's slots (who caused a
    drop at the concurrency cap, see `drops`)."""
    client = getattr(user, "client", None)
    send = getattr(client, "request", None)
    if slots is None or send is None:
        return

    def request(*args: Any, **kwargs: Any) -> Any:
        slots.awaiting_response += 1
        try:
            return send(*args, **kwargs)
        finally:
            slots.awaiting_response -= 1

    client.request = request  # type: ignore[union-attr]


def _run_once(user: User, journey: JourneyPlan) -> None:
    """on_start, one task, on_stop: Locust's `User.run` for one iteration."""
    user._state = LOCUST_STATE_RUNNING
    root: Any = DefaultTaskSet(user)
    user._taskset_instance = root
    try:
        user.on_start()
    except GreenletExit:
        raise
    except StopUser:
        _stop(user)
        return
    except Exception as error:
        _report(user.environment, user, error, f"on_start of {journey.name}")
        return
    try:
        _run_task(root, root.get_next_task())
    except GreenletExit:
        raise
    except _FLOW_CONTROL:
        pass
    except Exception as error:
        _report(user.environment, user, error, f"a task of {journey.name}")
    _stop(user)


def _run_task(parent: Any, task: Any) -> None:
    """Runs `task` as `parent` would; a nested TaskSet runs one iteration of itself."""
    if not (inspect.isclass(task) and issubclass(task, TaskSet)):
        parent.execute_task(task)
        return
    # the root's nested sets belong to the user itself (Locust's DefaultTaskSet does that)
    nested: Any = task(parent.user if isinstance(parent, DefaultTaskSet) else parent)
    try:
        nested.on_start()
    except InterruptTaskSet:
        return
    passes = len(nested.tasks) if isinstance(nested, SequentialTaskSet) else 1
    try:
        for index in range(passes):
            if index:
                nested.wait()
            _run_task(nested, nested.get_next_task())
    except InterruptTaskSet:
        pass
    except StopUser:
        nested.on_stop()
        raise
    nested.on_stop()


def _stop(user: Any) -> None:
    try:
        user.on_stop()
    except GreenletExit:
        raise
    except Exception as error:
        _report(user.environment, user, error, "on_stop")


def _report(environment: Any, user: User | None, error: Exception, where: str) -> None:
    """Logs a team's exception and fires Locust's `user_error`, as Locust does for a task."""
    logger.error("%s: %s\n%s", where, error, traceback.format_exc())
    if user is not None:
        hooks: Any = environment.events
        hooks.user_error.fire(user_instance=user, exception=error, tb=error.__traceback__)
