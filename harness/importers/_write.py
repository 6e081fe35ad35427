"""Writing what an importer made: checked first, never over an existing file unless forced.

The scenario and the SLA are rendered, then loaded back through `harness.spec` exactly as
`perfctl scenarios lint` and `perfctl sla lint --scenario` would (every profile planned, every
SLA operation produced by the scenario) before anything is written, so what lands on disk
lints clean.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from harness.errors import PerfctlError, UsageError
from harness.importers._draft import Imported
from harness.importers._render import SMOKE_DURATION, render_scenario, render_sla
from harness.spec import check_against, load_scenario, load_sla, plan_run

DEFAULT_SLA_PATH = Path("sla.yaml")
_CHECK_VALUE = "perfctl-import-check"


def default_scenario_path(imported: Imported) -> Path:
    """scenarios/NAME.yaml."""
    return Path("scenarios") / f"{imported.scenario.name}.yaml"


def write_imported(
    imported: Imported, *, out: Path | None = None, sla_out: Path | None = None, force: bool = False
) -> str:
    """Writes the scenario and the starter SLA and returns what to tell the user."""
    scenario_path = out or default_scenario_path(imported)
    sla_path = sla_out or DEFAULT_SLA_PATH
    if scenario_path.suffix not in (".yaml", ".yml"):
        raise UsageError(f"--out {scenario_path}: a scenario file ends in .yaml")
    if scenario_path.resolve() == sla_path.resolve():
        raise UsageError(f"--out and --sla-out are the same file: {scenario_path}")
    for path, option in ((scenario_path, "--out"), (sla_path, "--sla-out")):
        if path.exists() and not force:
            raise UsageError(
                f"{path} exists; pass --force to overwrite it, or {option} to write elsewhere"
            )
        if path.is_dir():
            raise UsageError(f"{option} {path}: a directory, expected a file")
    scenario_text = render_scenario(imported.scenario)
    sla_text = render_sla(imported.sla, imported.scenario.name)
    _check(imported, scenario_path, scenario_text, sla_path, sla_text)
    for path, text in ((scenario_path, scenario_text), (sla_path, sla_text)):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"{path}: cannot be written ({error.strerror})") from None
    return _summary(imported, scenario_path, sla_path)


def _check(
    imported: Imported, scenario_path: Path, scenario_text: str, sla_path: Path, sla_text: str
) -> None:
    """Loads both files from a scratch directory as a run would; an error names the real paths."""
    with (
        tempfile.TemporaryDirectory(prefix="perfctl-import-") as scratch,
        _env_set(imported.env_vars),
    ):
        scenario_file = Path(scratch) / scenario_path.name
        sla_file = Path(scratch) / f"sla-{sla_path.name}"
        scenario_file.write_text(scenario_text, encoding="utf-8")
        sla_file.write_text(sla_text, encoding="utf-8")
        try:
            scenario = load_scenario(scenario_file)
            for profile in scenario.profile_names:
                plan_run(scenario, profile)
            check_against(load_sla(sla_file), scenario)
        except PerfctlError as error:
            message = error.message.replace(str(scenario_file), str(scenario_path))
            message = message.replace(str(sla_file), str(sla_path))
            raise UsageError(
                f"the imported files do not validate (a perfctl bug): {message}"
            ) from None


@contextlib.contextmanager
def _env_set(names: tuple[str, ...]) -> Iterator[None]:
    """The `${env:NAME}` variables set to a stand-in while checking, if the user has not set
    them yet (they are needed only when the scenario runs)."""
    missing = [name for name in names if name not in os.environ]
    for name in missing:
        os.environ[name] = _CHECK_VALUE
    try:
        yield
    finally:
        for name in missing:
            os.environ.pop(name, None)


def _summary(imported: Imported, scenario_path: Path, sla_path: Path) -> str:
    scenario = imported.scenario
    steps = sum(len(journey.steps) for journey in scenario.journeys)
    operations = len(imported.sla.operations)
    lines = [
        f"scenario: {scenario_path} ({len(scenario.journeys)} "
        f"journey{'s' if len(scenario.journeys) != 1 else ''}, {steps} "
        f"request{'s' if steps != 1 else ''}, {operations} operations)",
        f"sla: {sla_path} ({operations} operations, starter limits: p95 < "
        f"{imported.sla.p95_ms:g} ms, p99 < {imported.sla.p99_ms:g} ms, error rate < "
        f"{imported.sla.error_rate_percent:g} %)",
        *(f"note: {note}" for note in imported.notes),
    ]
    for name in imported.env_vars:
        lines.append(
            f"set {name} in the environment before a lint or a run: the scenario reads it as "
            f"${{env:{name}}} (credentials are never written into the file)"
        )
    target = imported.target or "BASE_URL"
    lines.append(
        f"next: perfctl run {scenario_path} --sla {sla_path} --target {target} --profile smoke"
        f"  ({SMOKE_DURATION})"
    )
    return "\n".join(lines)
