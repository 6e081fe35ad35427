"""The scenario and the starter SLA as the YAML files a team edits next.

Both read like the hand-written files in the checkout: stages and profiles one per line,
each step with a comment saying which recorded request (or which operation) it is, each
extraction with the value it had in the recording, and the starter limits marked as such.
"""

from __future__ import annotations

from typing import Any

from harness.importers._draft import JourneyDraft, ScenarioDraft, SlaDraft, StepDraft
from harness.importers._yaml import Commented, dump

RAMP_UP_S = 30
"""The default shape: ramp to the users in 30 s, hold them 2 minutes."""
STEADY_S = 120
SMOKE_DURATION = "20s"
"""`--profile smoke`: the whole shape in 20 s with at most SMOKE_USERS users."""
SMOKE_USERS = 5
CI_DURATION = "60s"
CI_USERS = 10


def render_scenario(draft: ScenarioDraft) -> str:
    """The scenario file's text."""
    data: dict[str, Any] = {
        "version": 1,
        "name": draft.name,
        "title": draft.title,
        "description": draft.description,
        "model": Commented("closed", "a number of users, each running the journeys in a loop"),
        "warmup": Commented(f"{RAMP_UP_S}s", "the ramp-up is not judged"),
        "stages": [
            {"name": "ramp-up", "duration": f"{RAMP_UP_S}s", "users": draft.users},
            {"name": "steady", "duration": f"{STEADY_S // 60}m", "users": draft.users},
        ],
        "profiles": Commented(
            {
                "smoke": {
                    "description": "Does it work at all? A handful of users for 20 seconds.",
                    "duration": SMOKE_DURATION,
                    "max_users": SMOKE_USERS,
                },
                "ci": {
                    "description": "A one-minute gate for pull requests.",
                    "duration": CI_DURATION,
                    "max_users": CI_USERS,
                },
            },
            "perfctl run FILE --profile smoke",
        ),
        "journeys": {
            journey.name: _journey(journey, explain=index == 0)
            for index, journey in enumerate(draft.journeys)
        },
    }
    return dump(data, header=draft.header, footer=draft.footer)


def _journey(journey: JourneyDraft, *, explain: bool) -> Commented:
    """A journey; the first one (`explain`) says what its keys mean."""
    data: dict[str, Any] = {
        "weight": Commented(
            _number(journey.weight), "relative share of the iterations" if explain else ""
        ),
        "think_time": Commented(
            journey.think_time, "pause between two iterations" if explain else ""
        ),
    }
    if journey.variables:
        data["variables"] = {
            name: Commented(value, journey.variable_notes.get(name, ""))
            for name, value in journey.variables.items()
        }
    data["steps"] = [_step(step) for step in journey.steps]
    return Commented(data, above=("", journey.note) if journey.note else ("",))


def _step(step: StepDraft) -> Commented:
    data: dict[str, Any] = {"operation": step.operation, "method": step.method, "path": step.path}
    if step.query:
        data["query"] = step.query
    if step.headers:
        data["headers"] = step.headers
    if step.json_body is not None:
        data["json"] = step.json_body
    if step.extract:
        data["extract"] = {
            name: Commented(path, step.extract_notes.get(name, ""))
            for name, path in step.extract.items()
        }
    check: dict[str, Any] = {}
    if step.status != (200,):
        check["status"] = step.status[0] if len(step.status) == 1 else list(step.status)
    if step.json_path is not None:
        check["json_path"] = step.json_path
    if check:
        data["check"] = check
    if step.think_time_s > 0:
        data["think_time"] = Commented(f"{step.think_time_s:g}s", "pause after this request")
    return Commented(data, above=(step.note,) if step.note else ())


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def render_sla(draft: SlaDraft, scenario_name: str) -> str:
    """The starter SLA's text: the same objectives for every operation, plus the run as a whole."""
    p95 = f"< {draft.p95_ms:g} ms"
    p99 = f"< {draft.p99_ms:g} ms"
    errors = f"< {draft.error_rate_percent:g} %"
    services = {
        operation.name: {
            "title": operation.title,
            "latency": {"p95": p95, "p99": p99},
            "error_rate": errors,
        }
        for operation in draft.operations
    }
    data: dict[str, Any] = {
        "version": 1,
        "name": draft.name,
        "description": draft.description,
        "defaults": {
            "severity": "medium",
            "window": Commented("run", "one value over the run (after warm-up), not per minute"),
        },
        "kpis": Commented(
            {
                "response_time": {
                    "title": "Response time of every request",
                    "metric": "latency",
                    "statistic": "p95",
                    "limit": p95,
                },
                "error_rate": {
                    "title": "Errors over every request",
                    "metric": "error_rate",
                    "limit": errors,
                },
            },
            above=("", "The run as a whole ('*': every request)."),
        ),
        "services": Commented(
            services,
            above=(
                "",
                "One entry per operation of the scenario (the join key). p95 needs 72 requests",
                "and p99 368 to be judged: a short smoke run judges the error rates only.",
            ),
        ),
    }
    header = (
        f"Starter SLA written by `perfctl import` with the scenario {scenario_name!r}.",
        f"Every operation gets the same starter limits (p95 {p95}, p99 {p99}, error rate",
        f"{errors}): replace them with your own figures. `perfctl sla lint FILE --scenario",
        "SCENARIO` checks it; `perfctl sla show FILE` prints it as a table.",
        "Quote every limit: YAML reads a value starting with '>' as a folded block.",
    )
    return dump(data, header=header)
