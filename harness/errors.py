"""The one error tree of perfctl; the CLI catches it once and maps it to an exit code.

    PerfctlError                 exit 3 unless a subclass says otherwise
    ├── UsageError               exit 2  bad command-line use (unknown scenario, bad option value)
    │   └── SpecError            exit 2  a malformed or inconsistent SLA or scenario file
    ├── RunError                 exit 3  the run could not be made or judged
    │   ├── TargetUnreachableError       the target did not answer before any user started
    │   ├── EngineError                  a Locust process failed to start or died
    │   └── RunDirError                  a run directory is missing, incomplete or corrupt
    ├── BackendError             exit 3  the reference backend could not start or serve
    └── InterruptedRunError      exit 130  Ctrl-C or SIGTERM stopped the run

A failed SLA is a result (exit 1 from the verdict), never an exception.
"""

from __future__ import annotations

from pathlib import Path

EXIT_PASS = 0
EXIT_SLA_FAILED = 1
EXIT_USAGE = 2
EXIT_RUN = 3
EXIT_INTERRUPTED = 130

EXIT_CODE_TABLE = (
    (EXIT_PASS, "pass: every objective met (warnings allowed unless --strict)"),
    (EXIT_SLA_FAILED, "SLA failed, or a regression was found"),
    (EXIT_USAGE, "usage or spec error: bad option, malformed SLA or scenario"),
    (EXIT_RUN, "run or infrastructure error: target unreachable, engine failed, unreadable run"),
    (EXIT_INTERRUPTED, "interrupted by Ctrl-C or SIGTERM"),
)


class PerfctlError(Exception):
    """Base of every error perfctl expects; `exit_code` is what the CLI exits with."""

    exit_code: int = EXIT_RUN

    def __init__(self, message: str, *, run_dir: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.run_dir = run_dir
        """The run directory holding what was measured before the error, if there is one."""

    def __str__(self) -> str:
        return self.message


class UsageError(PerfctlError):
    """The command line asked for something that cannot be done as written."""

    exit_code = EXIT_USAGE


class SpecError(UsageError):
    """An SLA or scenario file is malformed or inconsistent; the message names file and line."""


class RunError(PerfctlError):
    """A run could not be made, finished or read."""

    exit_code = EXIT_RUN


class TargetUnreachableError(RunError):
    """The target did not answer before any load was sent."""


class EngineError(RunError):
    """A Locust process could not start, or failed in a way the run cannot survive."""


class RunDirError(RunError):
    """A run directory is missing, incomplete or corrupt."""


class BackendError(PerfctlError):
    """The reference backend could not start or serve."""

    exit_code = EXIT_RUN


class InterruptedRunError(PerfctlError):
    """The run was stopped by Ctrl-C or SIGTERM; what was measured is kept."""

    exit_code = EXIT_INTERRUPTED
