"""`perfctl init`: a team's starter sla.yaml, scenarios/ and CI workflow, from perfctl's examples.

The files are the ones perfctl ships (`_locate.shipped_root()`: the checkout's, or the
wheel's copy), so a team starts from the SLA and scenarios the project itself is tested
with, and edits them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import RunError, UsageError
from harness.spec._locate import shipped_root

WORKFLOW_PATH = Path(".github", "workflows", "perf.yml")
"""Where the GitHub Actions workflow goes in a team's repository."""
WORKFLOW_EXAMPLE = Path("examples", "github", "perf.yml")
"""The workflow in perfctl's repository (and the wheel) that init writes there."""
DEFAULT_ACTION = "perfctl/perfctl@main"
"""The action the example workflow `uses:`; `perfctl init --action` puts another there."""

_ACTION_PATTERN = re.compile(r"(\./[^\s@]*|[\w.-]+/[\w./-]+@[\w./+-]+)")


@dataclass(frozen=True, slots=True)
class StarterFile:
    """One file `perfctl init` writes."""

    path: Path
    """Where it goes, relative to the team's directory."""
    text: str
    """Its content."""


def starter_files(action: str | None = None) -> tuple[StarterFile, ...]:
    """sla.yaml, every file of scenarios/ and the workflow (using `action`, if given)."""
    root = shipped_root()
    scenarios = root / "scenarios"
    sources = [(Path("sla.yaml"), root / "sla.yaml")]
    if scenarios.is_dir():
        sources += [
            (Path("scenarios", *path.relative_to(scenarios).parts), path)
            for path in sorted(scenarios.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts
        ]
    sources.append((WORKFLOW_PATH, root / WORKFLOW_EXAMPLE))
    missing = [str(source) for _, source in sources if not source.is_file()]
    if missing or not scenarios.is_dir():
        raise RunError(
            f"perfctl's example files are missing ({', '.join(missing) or scenarios}): "
            "reinstall perfctl"
        )
    files = [StarterFile(path, source.read_text(encoding="utf-8")) for path, source in sources]
    if action is not None:
        files[-1] = StarterFile(WORKFLOW_PATH, _use_action(files[-1].text, action))
    return tuple(files)


def _use_action(workflow: str, action: str) -> str:
    if not _ACTION_PATTERN.fullmatch(action):
        raise UsageError(
            f"--action must be OWNER/REPO@REF or ./PATH (what a workflow step `uses:`), "
            f"got {action!r}"
        )
    return workflow.replace(f"uses: {DEFAULT_ACTION}", f"uses: {action}")


def init_project(
    directory: Path, *, force: bool = False, action: str | None = None
) -> tuple[Path, ...]:
    """Write the starter files into `directory`; return their paths, in the order written.

    Nothing is written when one of them exists already (unless `force`) or cannot be
    written: the first such path is named in the UsageError.
    """
    files = starter_files(action)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: not a directory")
    targets = [directory / file.path for file in files]
    for target in targets:
        blocking = next(
            (parent for parent in target.parents if parent.exists() and not parent.is_dir()),
            None,
        )
        if blocking is not None:
            raise UsageError(f"{blocking} is a file; perfctl init needs a directory there")
        if target.is_dir():
            raise UsageError(f"{target} is a directory; perfctl init writes a file there")
        if target.exists() and not force:
            raise UsageError(f"{target} already exists; perfctl init --force overwrites it")
    written: list[Path] = []
    for file, target in zip(files, targets, strict=True):
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(file.text, encoding="utf-8")
        except OSError as error:
            raise UsageError(f"{target}: cannot write it ({error.strerror})") from error
        written.append(target)
    return tuple(written)
