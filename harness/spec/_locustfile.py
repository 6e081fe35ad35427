"""What a team's locustfile declares, read from its syntax tree (the file is never imported).

Importing a locustfile imports Locust, which monkey-patches the whole process with gevent:
only the engine's Locust processes may do that. The spec needs two facts before any load is
sent, and both are visible in the source of nearly every locustfile:

- whether it defines a `LoadTestShape` (a class whose base is named `LoadTestShape` or
  `locust.LoadTestShape`, or a class of this file that derives from one): a scenario
  without `stages` runs that shape;
- which classes set `fixed_count` (a number of concurrent users, which the open model has
  not), so an open-model scenario can refuse them with a clear message.

A shape imported from another module is not seen here; the engine, which imports the file,
says so at start if the plan expects a shape the file does not have.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from harness.spec._document import PathKey, Problem
from harness.spec._scenario_models import ScenarioFile

SHAPE_BASE = "LoadTestShape"
SHAPE_STAGE = "run"
"""The one stage of a run that its locustfile's LoadTestShape drives."""


@dataclass(frozen=True, slots=True)
class LocustfileFacts:
    """What the spec knows of a team's locustfile without importing it."""

    shape_classes: tuple[str, ...]
    """Names of the LoadTestShape classes it defines."""
    fixed_count_classes: tuple[str, ...]
    """Names of the classes that set a non-zero `fixed_count`."""


def read_locustfile_facts(path: Path) -> LocustfileFacts:
    """The facts of the locustfile at `path`; a ValueError naming the line when it does not
    parse, an OSError when it cannot be read."""
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as error:
        raise ValueError(f"{path.name}:{error.lineno}: {error.msg}") from None
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    shapes: list[str] = []
    # a class deriving from a shape of this file is a shape too (in definition order)
    for node in classes:
        if any(_base_name(base) in (SHAPE_BASE, *shapes) for base in node.bases):
            shapes.append(node.name)
    fixed = [node.name for node in classes if _sets_fixed_count(node)]
    return LocustfileFacts(shape_classes=tuple(shapes), fixed_count_classes=tuple(fixed))


def _base_name(base: ast.expr) -> str:
    if isinstance(base, ast.Name):
        return base.id
    if isinstance(base, ast.Attribute):
        return base.attr
    return ""


def _sets_fixed_count(node: ast.ClassDef) -> bool:
    for statement in node.body:
        if isinstance(statement, ast.Assign):
            targets = statement.targets
            value = statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets = [statement.target]
            value = statement.value
        else:
            continue
        named = any(isinstance(t, ast.Name) and t.id == "fixed_count" for t in targets)
        if named and not (isinstance(value, ast.Constant) and not value.value):
            return True
    return False


def team_locustfile_problems(spec: ScenarioFile, locustfile: Path | None) -> list[Problem]:
    """What a scenario's use of its team's locustfile cannot do: run without `stages` unless
    the file has one LoadTestShape (closed model, with a `duration`), or set `fixed_count`
    under the open model. `locustfile` is the located file of its locustfile journey."""
    journey = next((n for n, j in spec.journeys.items() if j.locustfile is not None), None)
    at: PathKey = ("journeys", journey, "locustfile") if journey else ("journeys",)
    facts = _facts_or_problem(locustfile, at)
    if isinstance(facts, Problem):
        return [facts]
    problems: list[Problem] = []
    if spec.stages is None:
        problems += _shape_problems(spec, locustfile, facts, at)
    elif spec.duration is not None:
        problems.append(
            Problem(
                ("duration",),
                "`duration` is for a scenario without `stages` (run by its locustfile's "
                "LoadTestShape); here the stages set the run's length",
            )
        )
    if spec.model == "open" and facts is not None and facts.fixed_count_classes:
        problems.append(
            Problem(
                at,
                f"{', '.join(facts.fixed_count_classes)} of {_name(locustfile)} set "
                "`fixed_count`, a number of concurrent users, which the open model has not "
                "(each arrival is a fresh user, picked by the classes' `weight`); remove "
                "`fixed_count` or use `model: closed`",
            )
        )
    return problems


def _facts_or_problem(locustfile: Path | None, at: PathKey) -> LocustfileFacts | Problem | None:
    """The file's facts; None without a (readable) file, whose absence is reported elsewhere."""
    if locustfile is None or not locustfile.is_file():
        return None
    try:
        return read_locustfile_facts(locustfile)
    except ValueError as error:
        return Problem(at, f"the locustfile does not parse: {error}")
    except OSError as error:
        return Problem(at, f"cannot read the locustfile: {error.strerror or error}")


def _shape_problems(
    spec: ScenarioFile, locustfile: Path | None, facts: LocustfileFacts | None, at: PathKey
) -> list[Problem]:
    if locustfile is None:
        return [
            Problem(
                ("stages",),
                "`stages` is required: the load over time (only a scenario whose locustfile "
                "journey defines a LoadTestShape may leave it out)",
            )
        ]
    if spec.model == "open":
        return [
            Problem(
                ("model",),
                "an open-model scenario needs `stages` with `rate`: a locustfile's "
                "LoadTestShape sets users and spawn rate (the closed model)",
            )
        ]
    problems: list[Problem] = []
    if facts is not None and len(facts.shape_classes) != 1:
        shapes = facts.shape_classes
        found = (
            f"defines {len(shapes)} LoadTestShape classes ({', '.join(shapes)}): keep one"
            if shapes
            else "defines no LoadTestShape class: add one"
        )
        problems.append(
            Problem(
                at,
                "a scenario without `stages` runs its locustfile's LoadTestShape, and "
                f"{_name(locustfile)} {found}, or give the scenario `stages`",
            )
        )
        return problems
    if spec.duration is None:
        problems.append(
            Problem(
                ("stages",),
                f"a scenario run by {_name(locustfile)}'s LoadTestShape needs `duration` (e.g. "
                "`duration: 10m`): the run's planned length, which the verdict judges; the "
                "shape ends the run earlier by returning None",
            )
        )
    elif spec.warmup >= spec.duration:
        problems.append(
            Problem(
                ("warmup",),
                f"warm-up {spec.warmup:g}s leaves nothing of a {spec.duration:g}s run to judge",
            )
        )
    return problems


def _name(locustfile: Path | None) -> str:
    return locustfile.name if locustfile is not None else "the locustfile"
