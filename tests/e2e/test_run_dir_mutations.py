"""A real run directory, corrupted in hundreds of ways, never yields a false verdict.

One short real run (`perfctl run smoke --profile smoke` against the embedded backend) is made
once per session. Each example copies it, applies one mutation (truncation, lines lost, a key
missing, a wrong type, a histogram that is not one, a negative count, a run.json status or
interrupted value) and evaluates it the way `perfctl evaluate` does (cli.main, in-process,
SystemExit caught). The property:
- a completed run: exit 3 with one line on stderr, or a verdict identical to the unmutated
  one; never 0 or 1 from a corrupt file, never a traceback;
- a run whose perfctl was killed: always exit 3; either one line on stderr, or a verdict that
  is not a pass, says the run was killed, and names a last line cut off mid-write.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import cli
from harness.rundir import RunnerProcess, read_run_record, write_run_record

PERFCTL = str(Path(sys.executable).with_name("perfctl"))
SLA = Path(__file__).resolve().parents[2] / "sla.yaml"
LINE_FILES = ("timeline.jsonl", "load.jsonl", "events.jsonl")
KEPT = ("run.json", "plan.json", "engine.json", *LINE_FILES, "server.jsonl", "server.json")
WRONG_VALUES: tuple[Any, ...] = ("x", ["x"], {"x": "y"})
"""Replacements of another JSON type than the value they replace (never null)."""
STATUS_VALUES: tuple[Any, ...] = (
    123,
    None,
    "",
    "done",
    "RUNNING",
    "running",
    "completed",
    "aborted",
    "failed",
    "degraded",
)
INTERRUPTED_VALUES: tuple[Any, ...] = ("no", "false", 1, 0, None, True, False)


@dataclass(frozen=True)
class Evaluation:
    code: int
    stdout: str
    stderr: str
    verdict: dict[str, Any] | None


@dataclass(frozen=True, repr=False)
class Base:
    """An unmutated run directory and its verdict."""

    path: Path
    killed: bool
    texts: dict[str, str]
    evaluation: Evaluation

    def __repr__(self) -> str:
        return f"Base({self.path.name}, killed={self.killed})"


def evaluate_in_process(run_dir: Path) -> Evaluation:
    """`perfctl evaluate RUN_DIR --sla sla.yaml` through cli.main, in this process."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["perfctl", "evaluate", str(run_dir), "--sla", str(SLA)]
    code: int
    with mock.patch.object(sys, "argv", argv), redirect_stdout(out), redirect_stderr(err):
        try:
            cli.main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
    verdict_file = run_dir / "verdict.json"
    verdict = json.loads(verdict_file.read_text()) if verdict_file.exists() else None
    return Evaluation(code, out.getvalue(), err.getvalue(), verdict)


def _copy(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for name in KEPT:
        if (source / name).exists():
            shutil.copy2(source / name, target / name)
    return target


@pytest.fixture(scope="session")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short real run against the embedded reference backend, made once."""
    out = tmp_path_factory.mktemp("real-run")
    result = subprocess.run(
        [PERFCTL, "run", "smoke", "--profile", "smoke", "--out", str(out), "--run-id", "real"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    run_dir = out / "real"
    assert (run_dir / "engine.json").exists(), result.stderr
    assert read_run_record(run_dir).status == "completed", result.stderr
    return run_dir


def _base(path: Path, *, killed: bool) -> Base:
    texts = {name: (path / name).read_text() for name in KEPT if (path / name).exists()}
    with tempfile.TemporaryDirectory() as scratch:
        evaluation = evaluate_in_process(_copy(path, Path(scratch) / "run"))
    return Base(path, killed, texts, evaluation)


@pytest.fixture(scope="session")
def completed_base(real_run: Path) -> Base:
    base = _base(real_run, killed=False)
    assert base.evaluation.code in (0, 1), base.evaluation.stderr
    assert base.evaluation.verdict is not None
    return base


@pytest.fixture(scope="session")
def killed_base(real_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Base:
    """The same run as if perfctl had been killed -9 with its engine: run.json still says
    running (its process gone), no engine.json."""
    path = _copy(real_run, tmp_path_factory.mktemp("killed") / "run")
    (path / "engine.json").unlink()
    record = read_run_record(path)
    gone = RunnerProcess(pid=1, hostname=socket.gethostname(), started_at=1.0)
    running = replace(
        record,
        status="running",
        end_cause=None,
        ended_at=None,
        duration_s=None,
        exit_reason="load running",
        engine=None,
        runner=gone,
    )
    write_run_record(path, running)
    base = _base(path, killed=True)
    assert base.evaluation.code == 3, base.evaluation.stderr
    assert base.evaluation.verdict is not None
    assert base.evaluation.verdict["run_status"] == "killed"
    return base


# -- mutations --------------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path of a JSON object, nested objects included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value


def _get(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


def _delete(document: dict[str, Any], path: tuple[str, ...]) -> None:
    for key in path[:-1]:
        document = document[key]
    del document[path[-1]]


def _wrong_value(draw: st.DrawFn, original: Any) -> Any:
    """A value of another JSON type than `original` (a string never replaces null: some
    null fields are optional strings)."""
    candidates = [
        value
        for value in WRONG_VALUES
        if type(value) is not type(original) and not (original is None and isinstance(value, str))
    ]
    return draw(st.sampled_from(candidates))


@st.composite
def line_mutation(draw: st.DrawFn, name: str, text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    kinds = ["truncate", "drop_lines", "delete_key", "wrong_type", "garbage_line"]
    if name == "timeline.jsonl":
        kinds += ["bad_histogram", "negative_count", "string_count"]
    kind = draw(st.sampled_from(kinds))
    if kind == "truncate":
        cut = draw(st.integers(1, len(text) - 1))
        return f"{name}: cut at byte {cut}", text[:cut]
    if kind == "drop_lines":
        first = draw(st.integers(0, len(lines) - 1))
        last = draw(st.integers(first + 1, len(lines)))
        return f"{name}: lines {first + 1}..{last} lost", "".join(lines[:first] + lines[last:])
    if kind == "garbage_line":
        at = draw(st.integers(0, len(lines)))
        return f"{name}: garbage before line {at + 1}", "".join(
            [*lines[:at], "{not json\n", *lines[at:]]
        )
    index = draw(st.integers(0, len(lines) - 1))
    document = json.loads(lines[index])
    if kind == "delete_key":
        path = draw(st.sampled_from(list(_paths(document))))
        _delete(document, path)
    elif kind == "wrong_type":
        path = draw(st.sampled_from(list(_paths(document))))
        _set(document, path, _wrong_value(draw, _get(document, path)))
    elif kind == "bad_histogram":
        original = document["latency_us"]
        path = ("latency_us",)
        bad = draw(
            st.sampled_from(
                ["!!not base64!!", "", "HISTFAAAA", original[:-4], original[: len(original) // 2]]
            )
        )
        _set(document, path, bad)
    else:
        outcome = draw(st.sampled_from(sorted(document["counts"])))
        path = ("counts", outcome)
        if kind == "negative_count":
            _set(document, path, -draw(st.integers(1, 1000)))
        else:
            _set(document, path, str(document["counts"][outcome]))
    lines[index] = json.dumps(document, separators=(",", ":")) + "\n"
    return f"{name}:{index + 1}: {kind} {'.'.join(path)}", "".join(lines)


@st.composite
def document_mutation(draw: st.DrawFn, name: str, text: str) -> tuple[str, str]:
    document = json.loads(text)
    kinds = ["truncate", "delete_key", "wrong_type"]
    if name == "run.json":
        kinds += ["status", "interrupted"]
    kind = draw(st.sampled_from(kinds))
    if kind == "truncate":
        cut = draw(st.integers(1, len(text) - 2))
        return f"{name}: cut at byte {cut}", text[:cut]
    key = draw(st.sampled_from(sorted(document)))
    if kind == "delete_key":
        del document[key]
    elif kind == "wrong_type":
        document[key] = _wrong_value(draw, document[key])
    elif kind == "status":
        key, document["status"] = "status", draw(st.sampled_from(STATUS_VALUES))
    else:
        key, document["interrupted"] = "interrupted", draw(st.sampled_from(INTERRUPTED_VALUES))
    return f"{name}: {kind} {key}={document.get(key, '<deleted>')!r}", json.dumps(
        document, indent=2
    )


@dataclass(frozen=True, repr=False)
class Mutation:
    """One corruption of one file."""

    name: str
    description: str
    new_text: str

    def __repr__(self) -> str:
        return self.description


@st.composite
def mutation(draw: st.DrawFn, base: Base) -> Mutation:
    """One corruption of `base`: the file, what was done, and the file's new text."""
    names = [name for name in (*LINE_FILES, "run.json", "engine.json") if base.texts.get(name)]
    name = draw(st.sampled_from(names))
    text = base.texts[name]
    strategy = line_mutation(name, text) if name in LINE_FILES else document_mutation(name, text)
    description, new_text = draw(strategy)
    return Mutation(name, description, new_text)


# -- the property -----------------------------------------------------------------------------


def _unpacked(drawn: Mutation) -> tuple[str, str, str]:
    return drawn.name, drawn.description, drawn.new_text


def _judge(base: Base, name: str, new_text: str) -> Evaluation:
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = _copy(base.path, Path(scratch) / "run")
        (run_dir / name).write_text(new_text)
        return evaluate_in_process(run_dir)


def _refused(evaluation: Evaluation) -> bool:
    lines = evaluation.stderr.strip().splitlines()
    return (
        evaluation.code == 3
        and len(lines) == 1
        and lines[0].startswith("error: ")
        and evaluation.verdict is None
    )


SETTINGS = settings(
    max_examples=170,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(data=st.data())
def test_a_corrupted_completed_run_is_refused_or_judged_exactly_as_before(
    completed_base: Base, data: st.DataObject
) -> None:
    name, description, new_text = _unpacked(data.draw(mutation(completed_base)))
    if new_text == completed_base.texts[name]:
        return
    evaluation = _judge(completed_base, name, new_text)
    if _refused(evaluation):
        return
    same = (
        evaluation.code == completed_base.evaluation.code
        and evaluation.verdict == completed_base.evaluation.verdict
    )
    assert same, f"{description}: exit {evaluation.code}, stderr {evaluation.stderr!r}"


@settings(SETTINGS, max_examples=40)
@given(data=st.data())
def test_a_corrupted_killed_run_always_exits_3_and_never_passes(
    killed_base: Base, data: st.DataObject
) -> None:
    name, description, new_text = _unpacked(data.draw(mutation(killed_base)))
    evaluation = _judge(killed_base, name, new_text)
    assert evaluation.code == 3, f"{description}: exit {evaluation.code}: {evaluation.stderr}"
    if _refused(evaluation):
        return
    verdict = evaluation.verdict
    assert verdict is not None, f"{description}: {evaluation.stderr}"
    assert verdict["run_status"] == "killed", description
    assert verdict["status"] != "pass", description
    if name in LINE_FILES and new_text and not new_text.endswith("\n"):
        line = new_text.count("\n") + 1
        assert any(f"{name}:{line}: the last line was cut off" in r for r in verdict["reasons"]), (
            description
        )


def test_a_few_mutations_through_the_installed_command(completed_base: Base) -> None:
    """The in-process evaluation above is what the console script does."""
    cases = {
        "timeline.jsonl": completed_base.texts["timeline.jsonl"][:-100],
        "run.json": completed_base.texts["run.json"].replace(
            '"status": "completed"', '"status": 1'
        ),
    }
    for name, text in cases.items():
        with tempfile.TemporaryDirectory() as scratch:
            run_dir = _copy(completed_base.path, Path(scratch) / "run")
            (run_dir / name).write_text(text)
            result = subprocess.run(
                [PERFCTL, "evaluate", str(run_dir), "--sla", str(SLA)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        assert result.returncode == 3, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert name in result.stderr
