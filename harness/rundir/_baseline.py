"""Named baselines: `BASELINES_DIR/<name>.json`, the last passing runs of one scenario, profile
and target with the figures a new run is compared with, and `RUN_DIR/baseline.json`, what
that comparison found. Both are read back typed, strictly, like run.json.

    reports/baselines/main.json (schema 1)
    ├── name, keep                 the baseline's name; how many runs it keeps (the newest)
    ├── key                        scenario, profile, target ("embedded" or the redacted URL)
    ├── settings                   confidence, max_regression and the absolute floors
    ├── runs[]                     per run: run_id, run_dir, started_at, key, judged_s and per
    │                              operation ("*": every request) requests, failed, error_rate,
    │                              throughput_rps, p50_ms, p95_ms, p99_ms over the judged span
    └── bands[]                    per figure the baseline tests: centre, prediction interval
                                   (low, high), the limit a new run must not cross, the level

The runs carry their own figures, so a baseline outlives its run directories (a CI cache
keeps only this file). `perfctl baseline` writes it (harness/compare computes the bands);
`perfctl run --baseline` reads it and writes baseline.json into the new run; the runs index
draws the bands and marks the regressions.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from annotated_types import Ge, Gt
from pydantic import ConfigDict

from harness.errors import RunDirError, UsageError
from harness.rundir._layout import write_json_atomically
from harness.timeline import Count, MalformedError, parse_json

BASELINE_SCHEMA: Literal[1] = 1
BASELINE_CHECK_FILE = "baseline.json"
BASELINES_DIR = "baselines"
"""The baselines' directory inside a reports directory (its default place)."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NonNegative = Annotated[float, Ge(0)]
Direction = Literal["higher_is_worse", "lower_is_worse"]
Method = Literal["between_runs", "within_run", "not_compared"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RunKey:
    """What makes runs comparable: the same scenario and profile against the same target."""

    scenario: str
    profile: str
    target: str
    """"embedded" (the reference backend perfctl started) or the target URL, redacted."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    def describe(self) -> str:
        return f"scenario {self.scenario}, profile {self.profile}, target {self.target}"


@dataclass(frozen=True, slots=True)
class OperationFigures:
    """One operation's figures over a run's judged span (the run after warm-up)."""

    requests: Count
    failed: Count
    error_rate: NonNegative
    """failed / requests, a 0-1 fraction."""
    throughput_rps: NonNegative
    """Requests completed per second of the judged span."""
    p50_ms: NonNegative | None = None
    p95_ms: NonNegative | None = None
    p99_ms: NonNegative | None = None

    __pydantic_config__ = ConfigDict(extra="forbid")

    def value(self, figure: str) -> float | None:
        """The figure named `figure` (p50_ms, ..., error_rate, throughput_rps)."""
        value = getattr(self, figure)
        return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class BaselineRun:
    """One passing run of a baseline, with the figures the comparison needs."""

    run_id: str
    run_dir: str
    """Where the run directory was when it was added (it may be gone since)."""
    started_at: str
    key: RunKey
    judged_s: Annotated[float, Gt(0)]
    """Length of the judged span."""
    operations: dict[str, OperationFigures]
    """Per operation, and "*" for every request."""

    __pydantic_config__ = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class BaselineSettings:
    """The thresholds a regression must clear beside the between-run test."""

    confidence: Annotated[float, Ge(0.5)] = 0.95
    """1 - the chance that a run of the same code is flagged (every figure together)."""
    max_regression: NonNegative = 0.10
    """Relative threshold, of the baseline's centre."""
    min_change_ms: NonNegative = 1.0
    min_error_rate_change: NonNegative = 0.005
    min_throughput_change_rps: NonNegative = 1.0

    __pydantic_config__ = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class BaselineBand:
    """What the baseline allows one figure of a new run: its band and its limit."""

    operation: str
    figure: str
    direction: Direction
    runs: Annotated[int, Ge(1)]
    """Baseline runs the band rests on."""
    center: float
    """Geometric mean of the runs' values (latency, throughput), mean (error rate)."""
    low: float
    """Lower end of the prediction interval at `level` per side."""
    high: float
    """Upper end of the prediction interval at `level` per side."""
    limit: float
    """A new value beyond this (the worse way) is a regression: the prediction bound, the
    relative threshold and the absolute floor, whichever is furthest from the centre."""
    level: float
    """The chance a run of the same code falls beyond the bound: (1 - confidence) / figures."""

    __pydantic_config__ = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class BaselineManifest:
    """A named baseline: the newest `keep` passing runs of one key, and its bands."""

    name: str
    key: RunKey
    keep: Annotated[int, Ge(1)] = 10
    settings: BaselineSettings = field(default_factory=BaselineSettings)
    runs: tuple[BaselineRun, ...] = ()
    """Oldest first."""
    bands: tuple[BaselineBand, ...] = ()
    """Empty below the runs the between-run test needs."""
    method: str = ""
    """The test, in one paragraph."""
    schema: int = BASELINE_SCHEMA

    __pydantic_config__ = ConfigDict(extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema": data.pop("schema"), **data}


@dataclass(frozen=True, slots=True)
class FigureCheck:
    """One figure of a new run against its baseline."""

    operation: str
    figure: str
    direction: Direction
    value: float | None
    """The new run's value."""
    center: float | None = None
    low: float | None = None
    high: float | None = None
    limit: float | None = None
    p_value: float | None = None
    """One-sided: the chance a run of the same code is at least this much worse."""
    level: float | None = None
    tested: bool = False
    regression: bool = False
    note: str = ""
    """Why a figure was not tested."""

    __pydantic_config__ = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class BaselineCheck:
    """baseline.json: a run compared with a named baseline."""

    baseline: str
    run_id: str
    method: Method
    baseline_runs: Count
    regression: bool
    note: str = ""
    """How it was compared, or why it was not, in one line."""
    confidence: float = 0.95
    figures_tested: Count = 0
    figures: tuple[FigureCheck, ...] = ()
    compared_with: str = ""
    """within_run: the baseline run directory the run was compared with."""
    schema: int = BASELINE_SCHEMA

    __pydantic_config__ = ConfigDict(extra="forbid")

    @property
    def regressions(self) -> tuple[FigureCheck, ...]:
        return tuple(figure for figure in self.figures if figure.regression)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema": data.pop("schema"), **data}


def validate_baseline_name(name: str) -> str:
    """The name if it can name a file; a UsageError otherwise."""
    if not _NAME.match(name) or name in (".", ".."):
        raise UsageError(
            f"a baseline name is letters, digits, '.', '_' or '-' (at most 64), got {name!r}"
        )
    return name


def baseline_file(directory: Path, name: str) -> Path:
    return directory / f"{validate_baseline_name(name)}.json"


def _read_typed(kind: type[T], path: Path, what: str) -> T:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RunDirError(f"{path} is unreadable: {error}") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise RunDirError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict) or data.get("schema") != BASELINE_SCHEMA:
        schema = data.get("schema") if isinstance(data, dict) else None
        raise RunDirError(
            f"{path}: expected {what} with schema {BASELINE_SCHEMA}, got schema {schema!r}"
        )
    try:
        return parse_json(kind, text)
    except MalformedError as error:
        raise RunDirError(f"{path}{error.line_suffix(text)}: {error}") from None


def read_baseline(directory: Path, name: str) -> BaselineManifest | None:
    """The baseline `name` in `directory`; None when there is none; a RunDirError when its
    file is unreadable."""
    path = baseline_file(directory, name)
    if not path.is_file():
        return None
    return _read_typed(BaselineManifest, path, "a baseline")


def write_baseline(directory: Path, manifest: BaselineManifest) -> Path:
    path = baseline_file(directory, manifest.name)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_json_atomically(path, manifest.to_dict())
    except OSError as error:
        raise RunDirError(f"cannot write {path}: {error.strerror}") from None
    return path


def baseline_names(directory: Path) -> list[str]:
    """Names of the baselines in `directory` (sorted; none when it does not exist)."""
    if not directory.is_dir():
        return []
    return sorted(
        path.stem for path in directory.glob("*.json") if _NAME.match(path.stem) is not None
    )


def read_baseline_check(run_dir: Path) -> BaselineCheck | None:
    """RUN_DIR/baseline.json; None when the run was never compared with a baseline."""
    path = run_dir / BASELINE_CHECK_FILE
    if not path.is_file():
        return None
    return _read_typed(BaselineCheck, path, "a baseline comparison")


def write_baseline_check(run_dir: Path, check: BaselineCheck) -> Path:
    path = run_dir / BASELINE_CHECK_FILE
    try:
        write_json_atomically(path, check.to_dict())
    except OSError as error:
        raise RunDirError(f"cannot write {path}: {error.strerror}") from None
    return path
