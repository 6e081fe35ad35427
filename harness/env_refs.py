"""`${env:NAME}` references: their grammar, their expansion, and the masking of secret values.

A scenario may write `${env:NAME}` (or `${env:NAME:-default}`) inside any string. The spec
resolves the references when it loads the file: a variable listed in the scenario's
`public_env` is substituted there and then (its value is in plan.json and the report); every
other one is secret, and its reference stays in the plan as written. Only the engine
processes expand those (`expand_refs`), from their own environment, so a secret value is
never part of a plan, a plan.json, a run record or a report; whatever the engine writes
itself goes through `mask_values` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
"""`${env:NAME}` or `${env:NAME:-default}` (the default may be empty, never holds `}`)."""
MASK = "***"
"""What a secret value becomes in anything written (k6's and GitHub's convention)."""


@dataclass(frozen=True, slots=True)
class EnvRef:
    """One `${env:...}` reference in a string."""

    name: str
    """The environment variable."""
    default: str | None
    """The value when the variable is unset; None: it must be set."""


def find_refs(text: str) -> list[EnvRef]:
    """The references in `text`, in order."""
    if "${env:" not in text:
        return []
    return [EnvRef(match.group(1), match.group(2)) for match in ENV_REF.finditer(text)]


def expand_text(text: str, environ: Mapping[str, str], only: Iterable[str] | None = None) -> str:
    """`text` with each reference replaced by its variable's value (its default when unset);
    a reference to an unset variable without a default, or outside `only`, stays as written."""
    if "${env:" not in text:
        return text
    allowed = set(only) if only is not None else None

    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if allowed is not None and name not in allowed:
            return match.group(0)
        found = environ.get(name, default)
        return found if found is not None else match.group(0)

    return ENV_REF.sub(value, text)


def expand_refs(value: Any, environ: Mapping[str, str]) -> Any:
    """A copy of a JSON-like value with `expand_text` applied to every string in it."""
    if isinstance(value, str):
        return expand_text(value, environ)
    if isinstance(value, dict):
        return {key: expand_refs(item, environ) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [expand_refs(item, environ) for item in value]
    return value


def refs_in(value: Any) -> Iterator[EnvRef]:
    """Every reference in the strings of a JSON-like value."""
    if isinstance(value, str):
        yield from find_refs(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from refs_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from refs_in(item)


def missing_variables(value: Any, environ: Mapping[str, str]) -> list[str]:
    """Names referenced without a default that `environ` does not set, sorted."""
    return sorted(
        {ref.name for ref in refs_in(value) if ref.default is None and ref.name not in environ}
    )


def secret_values(value: Any, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The values of the variables `value` references that `environ` sets (the secrets an
    engine process holds once it has expanded a plan), longest first."""
    names = {ref.name for ref in refs_in(value)}
    found = {environ[name] for name in names if environ.get(name)}
    return tuple(sorted(found, key=len, reverse=True))


def mask_values(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of a secret value replaced by `MASK` (longest first,
    so a secret that contains another is masked whole)."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, MASK)
    return text
