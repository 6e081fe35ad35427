"""Every command's usage errors through the installed console script: exit 2, one line, no
traceback, nothing started.

Exit 1 means "an objective failed" to a CI job; a typo on the command line must never look
like that. The table holds, for every command and sub-command, a bad option, a missing (or
extra) argument and, where the command takes values, a value out of range or of the wrong
type. `test_every_command_has_its_usage_errors` fails when a command is added without rows.
"""

from __future__ import annotations

import subprocess
import sys
import typing
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer

from harness.cli import app

pytestmark = pytest.mark.parallel_safe

PERFCTL = str(Path(sys.executable).with_name("perfctl"))

BAD_OPTION = "bad option"
MISSING_ARGUMENT = "missing argument"
EXTRA_ARGUMENT = "extra argument"
UNKNOWN_ARGUMENT = "unknown command or name"
BAD_VALUE = "bad value"

LOCUSTFILE = "team_locustfile.py"
"""Written into the working directory of every case (an empty locustfile is enough for -u/-r/-t)."""

HUGE_SCENARIO = "huge.yaml"
HUGE_SCENARIO_TEXT = """\
version: 1
model: closed
stages:
  - {name: steady, duration: 10s, users: 10000000000}
journeys:
  browse: {weight: 1}
"""


@dataclass(frozen=True, slots=True)
class Case:
    """One wrong command line and the words its one-line error must hold."""

    command: str
    """The command path as `perfctl --help` names it ("" for perfctl itself)."""
    kind: str
    """BAD_OPTION, MISSING_ARGUMENT, EXTRA_ARGUMENT, UNKNOWN_ARGUMENT or BAD_VALUE."""
    args: tuple[str, ...]
    """Everything after `perfctl`."""
    message: str
    """Words the error line must contain."""

    @property
    def id(self) -> str:
        return f"{self.command or 'perfctl'}: {' '.join(self.args)}"


CASES = (
    # perfctl itself
    Case("", BAD_OPTION, ("--bogus",), "No such option: --bogus"),
    Case("", UNKNOWN_ARGUMENT, ("frobnicate",), "No such command 'frobnicate'"),
    # serve: nothing may start (a case that starts the server times out and fails)
    Case("serve", BAD_OPTION, ("serve", "--bogus"), "No such option: --bogus"),
    Case("serve", EXTRA_ARGUMENT, ("serve", "extra"), "unexpected extra argument"),
    Case("serve", BAD_VALUE, ("serve", "--port", "99999"), "less than or equal to 65535"),
    Case("serve", BAD_VALUE, ("serve", "--port", "-1"), "greater than or equal to 0"),
    Case("serve", BAD_VALUE, ("serve", "--port", "http"), "valid integer"),
    Case("serve", BAD_VALUE, ("serve", "--catalog-size", "0"), "'--catalog-size'"),
    Case("serve", BAD_VALUE, ("serve", "--workers", "0"), "'--workers'"),
    Case(
        "serve",
        BAD_VALUE,
        ("serve", "--port", "0", "--admin-token", ""),
        "--admin-token must not be empty",
    ),
    Case(
        "serve",
        BAD_VALUE,
        ("serve", "--port", "0", "--admin-token", "   "),
        "--admin-token must not be empty",
    ),
    Case(
        "serve",
        BAD_VALUE,
        ("serve", "--port", "0", "--admin-token", "a\nb"),
        "control characters",
    ),
    Case("serve", BAD_VALUE, ("serve", "--agent-url", "nope"), "--agent-url must be AGENT="),
    # run: refused before any process starts or any directory is written
    Case("run", MISSING_ARGUMENT, ("run",), "Missing argument 'scenario'"),
    Case("run", BAD_OPTION, ("run", "smoke", "--bogus"), "No such option: --bogus"),
    Case("run", BAD_VALUE, ("run", "smoke", "--workers", "-1"), "'--workers'"),
    Case("run", BAD_VALUE, ("run", "smoke", "--baseline", "../x"), "a baseline name is"),
    Case("run", BAD_VALUE, ("run", "smoke", "--baseline", "nope"), "no baseline named 'nope'"),
    Case("run", BAD_VALUE, ("run", "smoke", "--baseline-update"), "needs --baseline NAME"),
    Case("run", BAD_VALUE, ("run", "smoke", "--workers", "abc"), "valid integer"),
    Case("run", BAD_VALUE, ("run", "smoke", "--remote-workers", "-1"), "'--remote-workers'"),
    Case(
        "run",
        BAD_VALUE,
        ("run", "smoke", "--master-bind", "127.0.0.1:70000"),
        "port in 1..65535",
    ),
    Case(
        "run",
        BAD_VALUE,
        ("run", "smoke", "--target", "http://127.0.0.1:8000/ a"),
        "--target must not contain spaces or control characters",
    ),
    Case(
        "run",
        BAD_VALUE,
        ("run", "smoke", "--target", "http://[::1"),
        "--target is not a valid URL",
    ),
    Case(
        "run",
        BAD_VALUE,
        ("run", "smoke", "--target", "http://127.0.0.1:99999"),
        "--target is not a valid URL",
    ),
    Case(
        "run",
        BAD_VALUE,
        ("run", "smoke", "--target", "http://127.0.0.1:8000/?x=1"),
        "--target must not carry a query string or fragment",
    ),
    Case(
        "run",
        BAD_VALUE,
        ("run", "smoke", "--target", "http://bob@127.0.0.1:8000"),
        "--target credentials must be USER:PASSWORD@",
    ),
    Case(
        "run",
        BAD_VALUE,
        ("run", "smoke", "--tag", "note=a\nforged: line"),
        "--tag must not contain control characters",
    ),
    Case("run", BAD_VALUE, ("run", "smoke", "--tag", "novalue"), "--tag must be key=value"),
    Case(
        "run",
        BAD_VALUE,
        ("run", LOCUSTFILE, "-u", "10000000000", "-t", "10s"),
        "-u/--users must be at least 1 and at most 1,000,000",
    ),
    Case(
        "run",
        BAD_VALUE,
        ("run", LOCUSTFILE, "-r", "10000000", "-t", "10s"),
        "-r/--spawn-rate must be positive and at most 1,000,000 users/s",
    ),
    Case(
        "run",
        BAD_VALUE,
        ("run", LOCUSTFILE, "-t", "200h"),
        "-t/--run-time must be positive and at most 604,800 s (7 days)",
    ),
    Case(
        "run",
        BAD_VALUE,
        ("run", HUGE_SCENARIO),
        f"{HUGE_SCENARIO}:4: stages.0.users: input should be less than or equal to 1000000",
    ),
    Case("run", BAD_VALUE, ("run", "smoke", "--profile", "nope"), "unknown profile 'nope'"),
    # worker
    Case("worker", MISSING_ARGUMENT, ("worker",), "Missing option '--master'"),
    Case("worker", BAD_OPTION, ("worker", "--master", "h:1", "--bogus"), "No such option"),
    Case("worker", BAD_VALUE, ("worker", "--master", "h:70000"), "port in 1..65535"),
    # capacity: refused before any directory is written or any load is sent
    Case("capacity", BAD_OPTION, ("capacity", "--bogus"), "No such option: --bogus"),
    Case("capacity", EXTRA_ARGUMENT, ("capacity", "capacity", "extra"), "unexpected extra"),
    Case("capacity", UNKNOWN_ARGUMENT, ("capacity", "nope"), "unknown scenario 'nope'"),
    Case("capacity", BAD_VALUE, ("capacity", "normal"), "capacity needs an open-model scenario"),
    Case("capacity", BAD_VALUE, ("capacity", "-p", "nope"), "unknown profile 'nope'"),
    Case("capacity", BAD_VALUE, ("capacity", "--sla", "absent.yaml"), "does not exist"),
    # evaluate
    Case("evaluate", MISSING_ARGUMENT, ("evaluate",), "Missing argument 'run_dir'"),
    Case("evaluate", BAD_OPTION, ("evaluate", "reports/x", "--bogus"), "No such option"),
    Case("evaluate", EXTRA_ARGUMENT, ("evaluate", "a", "b"), "unexpected extra argument"),
    # compare
    Case("compare", MISSING_ARGUMENT, ("compare", "a"), "Missing argument 'new_run'"),
    Case("compare", BAD_OPTION, ("compare", "a", "b", "--bogus"), "No such option"),
    Case("compare", BAD_VALUE, ("compare", "a", "b", "--confidence", "abc"), "valid number"),
    Case("compare", BAD_VALUE, ("compare", "a", "b", "--confidence", "1.5"), "--confidence"),
    Case("compare", BAD_VALUE, ("compare", "a", "b", "--max-regression", "lots"), "regression"),
    Case("baseline", UNKNOWN_ARGUMENT, ("baseline", "frobnicate"), "No such command 'frobnicate'"),
    Case("baseline", BAD_OPTION, ("baseline", "--bogus"), "No such option"),
    Case("baseline add", MISSING_ARGUMENT, ("baseline", "add", "main"), "'run_dirs'"),
    Case("baseline add", BAD_OPTION, ("baseline", "add", "main", "a", "--bogus"), "No such option"),
    Case("baseline add", BAD_VALUE, ("baseline", "add", "main", "a", "--keep", "0"), "'--keep'"),
    Case("baseline add", BAD_VALUE, ("baseline", "add", "../up", "a"), "a baseline name is"),
    Case("baseline list", BAD_OPTION, ("baseline", "list", "--bogus"), "No such option"),
    Case("baseline list", EXTRA_ARGUMENT, ("baseline", "list", "x"), "unexpected extra"),
    Case("baseline show", MISSING_ARGUMENT, ("baseline", "show"), "Missing argument 'name'"),
    Case("baseline show", BAD_OPTION, ("baseline", "show", "main", "--bogus"), "No such option"),
    Case("baseline show", BAD_VALUE, ("baseline", "show", "nope"), "no baseline named 'nope'"),
    Case("baseline remove", MISSING_ARGUMENT, ("baseline", "remove"), "Missing argument 'name'"),
    Case("baseline remove", BAD_OPTION, ("baseline", "remove", "x", "--bogus"), "No such option"),
    Case("baseline remove", BAD_VALUE, ("baseline", "remove", "nope"), "no baseline named"),
    Case("baseline check", MISSING_ARGUMENT, ("baseline", "check", "main"), "'run_dir'"),
    Case(
        "baseline check", BAD_OPTION, ("baseline", "check", "a", "b", "--bogus"), "No such option"
    ),
    Case("baseline check", BAD_VALUE, ("baseline", "check", "nope", "b"), "no baseline named"),
    # prometheus
    Case("prometheus", BAD_OPTION, ("prometheus", "--bogus"), "No such option"),
    Case("prometheus", EXTRA_ARGUMENT, ("prometheus", "extra"), "unexpected extra argument"),
    Case("prometheus", BAD_VALUE, ("prometheus", "--port", "70000"), "'--port'"),
    Case("prometheus", BAD_VALUE, ("prometheus", "--port", "0"), "'--port'"),
    Case("prometheus", BAD_VALUE, ("prometheus", "--target", "ftp://x"), "--target"),
    # report, reports serve
    Case("report", MISSING_ARGUMENT, ("report",), "Missing argument 'run_dir'"),
    Case("report", BAD_OPTION, ("report", "reports/x", "--bogus"), "No such option"),
    Case("reports", UNKNOWN_ARGUMENT, ("reports", "frobnicate"), "No such command"),
    Case("reports", BAD_OPTION, ("reports", "--bogus"), "No such option"),
    Case("reports serve", BAD_OPTION, ("reports", "serve", "--bogus"), "No such option"),
    Case("reports serve", EXTRA_ARGUMENT, ("reports", "serve", "x"), "unexpected extra"),
    Case("reports serve", BAD_VALUE, ("reports", "serve", "--port", "70000"), "'--port'"),
    Case("reports serve", BAD_VALUE, ("reports", "serve", "--port", "-1"), "'--port'"),
    # sla
    Case("sla", UNKNOWN_ARGUMENT, ("sla", "frobnicate"), "No such command 'frobnicate'"),
    Case("sla", BAD_OPTION, ("sla", "--bogus"), "No such option"),
    Case("sla lint", BAD_OPTION, ("sla", "lint", "--bogus"), "No such option"),
    Case("sla lint", EXTRA_ARGUMENT, ("sla", "lint", "a.yaml", "b.yaml"), "unexpected extra"),
    Case("sla lint", BAD_VALUE, ("sla", "lint", "--scenario", "nope"), "unknown scenario"),
    Case("sla lint", BAD_VALUE, ("sla", "lint", "nope.yaml"), "nope.yaml: no such file"),
    Case("sla show", BAD_OPTION, ("sla", "show", "--bogus"), "No such option"),
    Case("sla show", EXTRA_ARGUMENT, ("sla", "show", "a.yaml", "b.yaml"), "unexpected extra"),
    Case("sla schema", BAD_OPTION, ("sla", "schema", "--bogus"), "No such option"),
    Case("sla schema", EXTRA_ARGUMENT, ("sla", "schema", "x"), "unexpected extra"),
    # scenarios
    Case("scenarios", UNKNOWN_ARGUMENT, ("scenarios", "frobnicate"), "No such command"),
    Case("scenarios", BAD_OPTION, ("scenarios", "--bogus"), "No such option"),
    Case("scenarios list", BAD_OPTION, ("scenarios", "list", "--bogus"), "No such option"),
    Case("scenarios list", EXTRA_ARGUMENT, ("scenarios", "list", "x"), "unexpected extra"),
    Case("scenarios show", MISSING_ARGUMENT, ("scenarios", "show"), "Missing argument 'name'"),
    Case("scenarios show", BAD_OPTION, ("scenarios", "show", "smoke", "--bogus"), "No such"),
    Case(
        "scenarios show",
        BAD_VALUE,
        ("scenarios", "show", "smoke", "--profile", "nope"),
        "unknown profile 'nope'",
    ),
    Case(
        "scenarios show",
        BAD_VALUE,
        ("scenarios", "show", HUGE_SCENARIO),
        "less than or equal to 1000000",
    ),
    Case("scenarios lint", BAD_OPTION, ("scenarios", "lint", "--bogus"), "No such option"),
    Case(
        "scenarios lint", UNKNOWN_ARGUMENT, ("scenarios", "lint", "nope"), "unknown scenario 'nope'"
    ),
    Case("scenarios schema", BAD_OPTION, ("scenarios", "schema", "--bogus"), "No such option"),
    Case("scenarios schema", EXTRA_ARGUMENT, ("scenarios", "schema", "x"), "unexpected extra"),
    # import: nothing is written
    Case("import", UNKNOWN_ARGUMENT, ("import", "postman"), "No such command 'postman'"),
    Case("import", BAD_OPTION, ("import", "--bogus"), "No such option"),
    Case("import har", MISSING_ARGUMENT, ("import", "har"), "Missing argument 'file'"),
    Case("import har", BAD_OPTION, ("import", "har", "x.har", "--bogus"), "No such option"),
    Case("import har", BAD_VALUE, ("import", "har", "nope.har"), "nope.har: no such file"),
    Case(
        "import har",
        BAD_VALUE,
        ("import", "har", HUGE_SCENARIO),
        f"{HUGE_SCENARIO}:1: not JSON",
    ),
    Case("import openapi", MISSING_ARGUMENT, ("import", "openapi"), "Missing argument 'source'"),
    Case("import openapi", BAD_OPTION, ("import", "openapi", "a.json", "--bogus"), "No such"),
    Case(
        "import openapi", BAD_VALUE, ("import", "openapi", "a.json", "--server", "0"), "'--server'"
    ),
    Case(
        "import openapi",
        BAD_VALUE,
        ("import", "openapi", HUGE_SCENARIO),
        f"{HUGE_SCENARIO}: not an OpenAPI document (no `openapi` version field)",
    ),
    Case(
        "import openapi",
        BAD_VALUE,
        ("import", "openapi", "http://127.0.0.1:9/openapi.json"),
        "http://127.0.0.1:9/openapi.json: unreachable",
    ),
    # init: nothing is written
    Case("init", BAD_OPTION, ("init", "--bogus"), "No such option: --bogus"),
    Case("init", EXTRA_ARGUMENT, ("init", "a", "b"), "unexpected extra argument"),
    Case("init", BAD_VALUE, ("init", HUGE_SCENARIO), f"{HUGE_SCENARIO}: not a directory"),
    Case("init", BAD_VALUE, ("init", "--action", "a b"), "--action must be OWNER/REPO@REF"),
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the console script did with one case's command line."""

    done: subprocess.CompletedProcess[str]
    """Exit code, stdout and stderr."""
    left: tuple[str, ...]
    """Names in its working directory afterwards."""


def _run_case(case: Case, directory: Path) -> Outcome:
    directory.mkdir()
    (directory / LOCUSTFILE).write_text("# a team's locustfile\n")
    (directory / HUGE_SCENARIO).write_text(HUGE_SCENARIO_TEXT)
    done = subprocess.run(
        [PERFCTL, *case.args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=directory,
        stdin=subprocess.DEVNULL,
    )
    return Outcome(done, tuple(sorted(path.name for path in directory.iterdir())))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case run through the console script, a few at a time: each is a whole process
    start (~0.5 s of CPU), so running them side by side keeps the table cheap in CI."""
    root = tmp_path_factory.mktemp("usage")
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {
            case.id: pool.submit(_run_case, case, root / f"case-{index}")
            for index, case in enumerate(CASES)
        }
        return {case_id: future.result() for case_id, future in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_usage_error_is_exit_2_in_one_line_and_starts_nothing(
    outcomes: dict[str, Outcome], case: Case
) -> None:
    outcome = outcomes[case.id]
    done = outcome.done
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert case.message in lines[0]
    assert done.stdout == ""
    # nothing ran: no run directory, no reports
    assert outcome.left == tuple(sorted([HUGE_SCENARIO, LOCUSTFILE]))


@pytest.mark.parametrize("args", [(), ("sla",), ("scenarios",), ("reports",)])
def test_a_group_without_its_command_prints_its_help_and_exits_2(args: tuple[str, ...]) -> None:
    done = subprocess.run([PERFCTL, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Usage: perfctl")
    assert "Commands:" in done.stderr


def test_help_and_version_are_exit_0() -> None:
    for args in (["--help"], ["run", "--help"], ["sla", "lint", "-h"], ["--version"]):
        done = subprocess.run(
            [PERFCTL, *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, (args, done.stderr)
        assert done.stderr == ""


def _commands(
    typer_app: typer.Typer, prefix: tuple[str, ...] = ()
) -> dict[str, Callable[..., Any] | None]:
    """Every command and group `typer_app` registers, named as `perfctl --help` names them,
    with the function behind it (None for a group)."""
    found: dict[str, Callable[..., Any] | None] = {}
    for command in typer_app.registered_commands:
        assert command.callback is not None
        name = command.name or command.callback.__name__.lower().replace("_", "-")
        found[" ".join((*prefix, name))] = command.callback
    for group in typer_app.registered_groups:
        assert group.name is not None
        assert group.typer_instance is not None
        found[" ".join((*prefix, group.name))] = None
        found |= _commands(group.typer_instance, (*prefix, group.name))
    return found


def _takes_values(callback: Callable[..., Any]) -> bool:
    """Whether a command has an option or argument holding a number or text (not a flag, not
    a path, whose errors are the command's own: a missing run directory is exit 3)."""
    hints = typing.get_type_hints(callback, include_extras=True)
    hints.pop("return", None)
    for hint in hints.values():
        base = typing.get_args(hint)[0] if typing.get_origin(hint) is Annotated else hint
        kinds = set(typing.get_args(base)) or {base}
        kinds = {
            typing.get_args(kind)[0] if typing.get_origin(kind) is list else kind for kind in kinds
        }
        if kinds & {int, float, str}:
            return True
    return False


def test_every_command_has_its_usage_errors() -> None:
    kinds: dict[str, set[str]] = {}
    for case in CASES:
        kinds.setdefault(case.command, set()).add(case.kind)
    commands = _commands(app)
    assert set(kinds) - {""} == set(commands), "add usage-error cases for every command"
    for command, seen in kinds.items():
        assert BAD_OPTION in seen, f"{command!r} has no bad-option case"
        assert seen & {MISSING_ARGUMENT, EXTRA_ARGUMENT, UNKNOWN_ARGUMENT}, (
            f"{command!r} has no argument case"
        )
    for command, callback in commands.items():
        if callback is not None and _takes_values(callback):
            assert kinds[command] & {BAD_VALUE, UNKNOWN_ARGUMENT}, f"{command!r}: add a bad value"
