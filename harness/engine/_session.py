"""Sessions: what a simulated user keeps between requests, its cookies and its variables.

Closed model: each `JourneyUser` is one Locust `FastHttpUser`, so it already has its own
HTTP session and cookie jar. For each flow journey it also keeps a `FlowScope`: the
journey's `on_start` steps (a login) run before the user's first iteration of that journey,
outside any iteration's timing, and the variables they leave (a token, a user id, the
variables drawn for them) are the user's in every later iteration, overlaid on that
iteration's fresh variables; variables extracted by `steps` last one iteration. When the
user stops, the `on_stop` steps (a logout) run for every journey it started. A user whose
on_start failed tries again before its next iteration of that journey.

Open model: an arrival is a new visitor. It gets its own `FastHttpSession` (its own cookie
jar) over the driver's connection pool (`arrival_session`: about 6 µs, no connection of its
own), runs on_start, its steps and on_stop in one iteration (all timed as
`journey.<name>`), and its variables end with it.

Token refresh: a flow journey's `reauth_on: [401]` makes a step answered 401 run the
journey's on_start steps again, from the user's variables, then send the step once more
(`run_steps`). The 401 is recorded under the step's operation as an expected answer; the
retry is judged like any request.
"""

from __future__ import annotations

from typing import Any

from locust.contrib.fasthttp import FastHttpSession, FastHttpUser

from harness.engine._flow import initial_variables, run_steps
from harness.engine._iteration import Iteration
from harness.plan import JourneyPlan


class FlowScope:
    """One user's state for one flow journey: whether on_start ran, and what it left."""

    __slots__ = ("started", "variables")

    def __init__(self) -> None:
        self.started = False
        """Whether the on_start steps succeeded (they run again until they do)."""
        self.variables: dict[str, Any] = {}
        """The variables on_start left: the user's in every iteration."""


class UserState:
    """What one simulated user (closed model) keeps across its iterations."""

    __slots__ = ("builtin", "flows")

    def __init__(self) -> None:
        self.builtin: dict[str, Any] = {}
        """The built-in journeys' login (token, user id), shared by all of them."""
        self.flows: dict[str, FlowScope] = {}
        """Flow journey name -> its scope."""

    def scope(self, journey: JourneyPlan) -> FlowScope:
        """The scope of a flow journey, created on first use."""
        found = self.flows.get(journey.name)
        if found is None:
            found = self.flows[journey.name] = FlowScope()
        return found


def arrival_session(driver: FastHttpUser) -> FastHttpSession:
    """A session of its own for one open-model arrival: a fresh cookie jar over the driver's
    connection pool (so arrivals never see each other's cookies, and no connection is
    opened for them)."""
    client = driver.client
    return FastHttpSession(
        base_url=client.base_url,
        request_event=client.request_event,
        user=driver,
        client_pool=client.client.clientpool,
        network_timeout=driver.network_timeout,
        connection_timeout=driver.connection_timeout,
        max_redirects=driver.max_redirects,
        max_retries=driver.max_retries,
        insecure=driver.insecure,
        headers=driver.default_headers,
    )


def run_flow_session(journey: JourneyPlan, it: Iteration, scope: FlowScope | None) -> None:
    """One iteration of a flow journey for a user with `scope` (closed model), or one whole
    visit of an arrival (`scope` None, open model): on_start, steps, on_stop."""
    if scope is None:
        visit = FlowScope()
        if journey.on_start and not _start(journey, it, visit):
            return
        try:
            _run_steps(journey, it, visit)
        finally:
            if journey.on_stop:
                run_steps(journey.on_stop, it, dict(visit.variables))
        return
    if journey.on_start and not scope.started:
        # outside the iteration's timing: an iteration object that is never finished
        setup = Iteration(it.journey, it.client, it.recorder, it.rng, data=it.data)
        if not _start(journey, setup, scope):
            # the iteration cannot run without it: it fails as the login did
            it._fail(setup.outcome, f"on_start failed: {setup._error}")
            return
    _run_steps(journey, it, scope)


def stop_user(state: UserState, journeys: tuple[JourneyPlan, ...], it: Iteration) -> None:
    """Runs the on_stop steps of every flow journey the user started (closed model)."""
    for journey in journeys:
        scope = state.flows.get(journey.name)
        if journey.on_stop and scope is not None and scope.started:
            run_steps(journey.on_stop, it, dict(scope.variables))


def _start(journey: JourneyPlan, it: Iteration, scope: FlowScope) -> bool:
    variables = initial_variables(journey, it)
    if not run_steps(journey.on_start, it, variables):
        return False
    scope.variables = variables
    scope.started = True
    return True


def _run_steps(journey: JourneyPlan, it: Iteration, scope: FlowScope) -> None:
    variables = {**initial_variables(journey, it), **scope.variables}

    def refresh(current: dict[str, Any]) -> bool:
        fresh = dict(scope.variables)
        if not run_steps(journey.on_start, it, fresh):
            return False
        scope.variables = fresh
        current.update(fresh)
        return True

    reauth = refresh if journey.reauth_on and journey.on_start else None
    run_steps(journey.steps, it, variables, reauth, journey.reauth_on)
