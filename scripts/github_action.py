"""The perfctl GitHub Action's step (action.yml): run perfctl, publish its verdict, gate the job.

Reads the action's inputs from INPUT_* environment variables (SCENARIO, PROFILE, TARGET, SLA,
BASELINE, BASELINE_UPDATE, ARGS, OUT), runs

    perfctl run SCENARIO [--profile P] [--target URL] [--sla FILE] [--baseline NAME] --out OUT ARGS...

in the current directory, and, when the baseline input is a run directory rather than a
baseline's name, `perfctl compare BASELINE RUN` once the run is judged. It appends the run's
summary.md (and compare.md) to $GITHUB_STEP_SUMMARY, writes the outputs verdict, status,
exit-code, report and run-dir to $GITHUB_OUTPUT, and exits with perfctl's own exit code:
0 pass, 1 an objective failed (or a regression against the baseline), 2 usage or spec error,
3 the run failed or could not tell, 130 interrupted.

It uses only the standard library and knows perfctl only through its command line, its exit
code and the run directory it leaves: the contract a GitLab or Jenkins job relies on too.
Run it locally (outputs go to stdout when GITHUB_OUTPUT is unset):

    INPUT_SCENARIO=smoke INPUT_PROFILE=smoke GITHUB_STEP_SUMMARY=summary.md \
        .venv/bin/python scripts/github_action.py
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

EXIT_PASS, EXIT_FAILED, EXIT_USAGE, EXIT_RUN = 0, 1, 2, 3
NO_BASELINE = ("", "none")
"""Values of the baseline input that mean: no baseline."""
TRUE = ("true", "yes", "1")
OUTPUT_NAMES = ("verdict", "status", "exit-code", "report", "run-dir")
"""The step's outputs (action.yml declares the same)."""
SUMMARY_FILES = ("summary.md", "baseline.md", "compare.md")
"""The run directory's markdown, appended to the job's summary in this order when present:
the verdict, the check against a named baseline, the comparison with a baseline run."""


class ActionInputError(Exception):
    """An input the step cannot use (exit 2, like perfctl's own usage errors)."""


def perfctl_command(inputs: Mapping[str, str], perfctl: str) -> list[str]:
    """The `perfctl run` command line for the action's inputs (INPUT_* without the prefix)."""
    scenario = inputs.get("SCENARIO", "").strip()
    if not scenario:
        raise ActionInputError("the scenario input is required")
    command = [perfctl, "run", scenario]
    for option, name in (("--profile", "PROFILE"), ("--target", "TARGET"), ("--sla", "SLA")):
        value = inputs.get(name, "").strip()
        if value:
            command += [option, value]
    baseline = inputs.get("BASELINE", "").strip()
    update = inputs.get("BASELINE_UPDATE", "").strip().lower() in TRUE
    if baseline_run(inputs) is None and baseline.lower() not in NO_BASELINE:
        command += ["--baseline", baseline] + (["--baseline-update"] if update else [])
    elif update:
        raise ActionInputError("baseline-update needs a baseline name in the baseline input")
    command += ["--out", output_dir(inputs)]
    try:
        command += shlex.split(inputs.get("ARGS", ""))
    except ValueError as error:
        raise ActionInputError(
            f"the args input cannot be split like a shell does: {error}"
        ) from None
    return command


def baseline_run(inputs: Mapping[str, str]) -> Path | None:
    """The baseline input when it is a run directory (it holds run.json), else None."""
    baseline = inputs.get("BASELINE", "").strip()
    if baseline.lower() in NO_BASELINE or not (Path(baseline) / "run.json").is_file():
        return None
    return Path(baseline)


def compare_command(perfctl: str, baseline: Path, run_dir: Path) -> list[str]:
    """`perfctl compare BASELINE RUN`: the regression check against a baseline run."""
    return [perfctl, "compare", str(baseline), str(run_dir)]


def output_dir(inputs: Mapping[str, str]) -> str:
    """The parent directory of run directories (the out input, default reports)."""
    return inputs.get("OUT", "").strip() or "reports"


def find_perfctl() -> str:
    """The perfctl installed beside this Python (the action's venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("perfctl")
    if beside.is_file():
        return str(beside)
    found = shutil.which("perfctl")
    if found is None:
        raise ActionInputError("perfctl is not installed (neither beside this Python nor on PATH)")
    return found


def run_directories(out: Path) -> set[Path]:
    """The run directories under `out` (those holding run.json)."""
    if not out.is_dir():
        return set()
    return {path for path in out.iterdir() if (path / "run.json").is_file()}


def new_run_directory(before: set[Path], after: set[Path]) -> Path | None:
    """The run directory the run wrote: the newest one that was not there before."""
    new = sorted(after - before, key=lambda path: (path / "run.json").stat().st_mtime)
    return new[-1] if new else None


def verdict_status(run_dir: Path | None) -> str:
    """verdict.json's status ("" when the run directory holds no readable verdict)."""
    if run_dir is None:
        return ""
    try:
        verdict = json.loads((run_dir / "verdict.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    status = verdict.get("status") if isinstance(verdict, dict) else None
    return status if isinstance(status, str) else ""


def gate(exit_code: int, status: str) -> str:
    """The verdict output: pass, fail, inconclusive, or error when there is no verdict."""
    if exit_code == EXIT_PASS and status:
        return "pass"
    if exit_code == EXIT_FAILED and status:
        return "fail"
    if exit_code == EXIT_RUN and status:
        return "inconclusive"
    return "error"


def format_outputs(outputs: Mapping[str, str]) -> str:
    """$GITHUB_OUTPUT lines: `name<<DELIMITER`, the value, the delimiter (multi-line safe)."""
    lines = []
    for name, value in outputs.items():
        delimiter = f"ghadelimiter_{uuid.uuid4()}"  # never inside a value: a fresh uuid
        lines += [f"{name}<<{delimiter}", value, delimiter]
    return "\n".join(lines) + "\n"


def summary_markdown(run_dir: Path | None, exit_code: int, errors: Sequence[str]) -> str:
    """What goes to $GITHUB_STEP_SUMMARY: the run's markdown files, else what went wrong."""
    parts = []
    if run_dir is not None:
        for name in SUMMARY_FILES:
            path = run_dir / name
            if path.is_file():
                parts.append(path.read_text(encoding="utf-8").rstrip() + "\n")
    if not parts:
        detail = "\n".join(f"    {line}" for line in errors) or "    (no error line)"
        written = f"in {run_dir}" if run_dir is not None else "before it wrote a run directory"
        parts.append(
            f"### perfctl: no verdict\n\nperfctl exited {exit_code} {written}:\n\n{detail}\n"
        )
    return "\n".join(parts)


def _forward(stream: IO[str], sink: IO[str], kept: deque[str]) -> None:
    for line in stream:
        sink.write(line)
        sink.flush()
        kept.append(line.rstrip("\n"))


def run_perfctl(command: Sequence[str]) -> tuple[int, list[str]]:
    """Run perfctl with its output in the log; its exit code and the last lines of its stderr."""
    print("+ " + shlex.join(command), flush=True)
    kept: deque[str] = deque(maxlen=20)
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, errors="replace")
    assert process.stderr is not None
    forwarder = threading.Thread(target=_forward, args=(process.stderr, sys.stderr, kept))
    forwarder.start()
    try:
        exit_code = process.wait()
    except KeyboardInterrupt:  # the runner cancels with SIGINT: perfctl gets it too and ends
        exit_code = process.wait()
    forwarder.join()
    if exit_code < 0:  # ended by a signal: report it the way a shell does
        exit_code = 128 - exit_code
    return exit_code, [line for line in kept if line.startswith("error:")] or list(kept)[-3:]


def publish(outputs: Mapping[str, str], summary: str, environ: Mapping[str, str]) -> None:
    """Append the summary and the outputs to GitHub's files (stdout when they are not set)."""
    summary_file = environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as sink:
            sink.write(summary)
    output_file = environ.get("GITHUB_OUTPUT")
    if output_file:
        with open(output_file, "a", encoding="utf-8") as sink:
            sink.write(format_outputs(outputs))
    else:
        for name, value in outputs.items():
            print(f"{name}={value}")


def main(environ: Mapping[str, str] = os.environ) -> int:
    """The step: run, publish, and return perfctl's exit code."""
    inputs = {
        name[len("INPUT_") :]: value for name, value in environ.items() if name.startswith("INPUT_")
    }
    run_dir: Path | None = None
    try:
        perfctl = find_perfctl()
        command = perfctl_command(inputs, perfctl)
    except ActionInputError as error:
        exit_code, errors = EXIT_USAGE, [f"error: {error}"]
        print(errors[0], file=sys.stderr)
    else:
        out = Path(output_dir(inputs))
        before = run_directories(out)
        exit_code, errors = run_perfctl(command)
        run_dir = new_run_directory(before, run_directories(out))
        baseline = baseline_run(inputs)
        if baseline is not None and run_dir is not None and exit_code in (EXIT_PASS, EXIT_FAILED):
            compared, errors = run_perfctl(compare_command(perfctl, baseline, run_dir))
            if exit_code == EXIT_PASS:  # a regression (1) or a comparison not made (2, 3)
                exit_code = compared
    status = verdict_status(run_dir)
    report = run_dir / "index.html" if run_dir is not None else None
    outputs = {
        "verdict": gate(exit_code, status),
        "status": status,
        "exit-code": str(exit_code),
        "report": str(report.resolve()) if report is not None and report.is_file() else "",
        "run-dir": str(run_dir.resolve()) if run_dir is not None else "",
    }
    publish(outputs, summary_markdown(run_dir, exit_code, errors), environ)
    print(f"perfctl: verdict {outputs['verdict']}, exit code {exit_code}", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
