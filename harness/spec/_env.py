"""`${env:NAME}` in a scenario: checked and resolved when the file is read, before validation.

Every string of the document may hold references (`harness.env_refs`). A variable that is not
set and has no default is a problem at the line of the string that names it, so a run never
starts without it. Values are secret unless the scenario lists the variable in `public_env`:
a public value is substituted into the document (it shows in plan.json and the report, and
may stand for a number, `users: ${env:USERS}`); a secret reference stays as written and only
the engine processes expand it. A data source's `file` is always expanded here: perfctl reads
the file itself, and a path is not a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from harness.env_refs import expand_text, find_refs, missing_variables
from harness.errors import UsageError
from harness.spec._document import Document, PathKey, Problem

PUBLIC_ENV_KEY = "public_env"


def resolve_env(document: Document, environ: Mapping[str, str] | None = None) -> Document:
    """The document with public references substituted; a SpecError naming `file:line` for
    every reference to an unset variable without a default."""
    environ = os.environ if environ is None else environ
    data = document.data
    public = _public_names(data)
    problems: list[Problem] = []
    resolved = _resolve(data, (), environ, public, problems)
    if problems:
        raise document.error(problems)
    return Document(document.label, resolved, document.lines)


def _public_names(data: Any) -> set[str]:
    names = data.get(PUBLIC_ENV_KEY) if isinstance(data, dict) else None
    if isinstance(names, list):
        return {name for name in names if isinstance(name, str)}
    return set()


def _resolve(
    value: Any,
    path: PathKey,
    environ: Mapping[str, str],
    public: set[str],
    problems: list[Problem],
) -> Any:
    if isinstance(value, str):
        return _resolve_text(value, path, environ, public, problems)
    if isinstance(value, dict):
        return {
            key: (
                item
                if path == () and key == PUBLIC_ENV_KEY
                else _resolve(item, (*path, key), environ, public, problems)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _resolve(item, (*path, index), environ, public, problems)
            for index, item in enumerate(value)
        ]
    return value


def _resolve_text(
    text: str,
    path: PathKey,
    environ: Mapping[str, str],
    public: set[str],
    problems: list[Problem],
) -> str:
    refs = find_refs(text)
    if not refs:
        return text
    for ref in refs:
        if ref.default is None and ref.name not in environ:
            problems.append(
                Problem(
                    path,
                    f"environment variable {ref.name} is not set (set it, or give a default: "
                    f"${{env:{ref.name}:-value}})",
                )
            )
    if _is_data_file(path):
        return expand_text(text, environ)
    return expand_text(text, environ, only=public)


def _is_data_file(path: PathKey) -> bool:
    return len(path) == 3 and path[0] == "data" and path[2] == "file"


def check_plan_env(plan_data: Any, label: str, environ: Mapping[str, str] | None = None) -> None:
    """A UsageError when a saved plan's secret references name unset variables without a
    default (a rerun needs the same environment as the run that wrote it)."""
    missing = missing_variables(plan_data, os.environ if environ is None else environ)
    if missing:
        raise UsageError(
            f"{label}: the plan needs environment variable{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}, not set"
        )
