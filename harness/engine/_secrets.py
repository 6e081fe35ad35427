"""Secret `${env:NAME}` values in an engine process: expanded into the plan it runs, masked
in everything it writes.

The plan (plan.json, the master's spawn messages) keeps secret references as written; each
engine process expands them from its environment (`expand_plan`) and keeps the values only in
memory. The master also ships the values it expanded to its workers as a Locust option, so a
remote worker (`perfctl worker`) needs no copy of them. What the process writes goes through
`mask`: the recorder's error messages (a failed request's URL may hold a token), and its
stdout and stderr, which the runner captures into RUN_DIR/logs (`install_masking`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from harness.env_refs import expand_refs, mask_values, refs_in, secret_values

ENV_OPTION = "perfctl_env"
"""Locust option carrying `{name: value}` of the plan's secret references to the workers."""


class Secrets:
    """The secret values this process holds, for masking."""

    def __init__(self) -> None:
        self.values: tuple[str, ...] = ()
        """Secret values, longest first."""
        self.shipped: dict[str, str] = {}
        """Values the master shipped (a worker's), which take precedence over its environment."""

    def expand_plan(self, data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
        """The plan data with every `${env:...}` expanded; remembers the values."""
        merged = {**environ, **self.shipped}
        self.values = tuple(
            sorted({*self.values, *secret_values(data, merged)}, key=len, reverse=True)
        )
        expanded: dict[str, Any] = expand_refs(data, merged)
        return expanded

    def option_text(self, data: dict[str, Any], environ: Mapping[str, str]) -> str:
        """JSON of `{name: value}` for the references of `data` that `environ` sets."""
        names = {ref.name for ref in refs_in(data)}
        return json.dumps({name: environ[name] for name in sorted(names) if name in environ})

    def adopt_option(self, text: str) -> None:
        """Takes the values a master shipped (an empty or malformed option is ignored)."""
        try:
            shipped = json.loads(text) if text else {}
        except ValueError:
            return
        if isinstance(shipped, dict):
            self.shipped = {str(k): str(v) for k, v in shipped.items()}

    def mask(self, text: str) -> str:
        """`text` with every secret value replaced by `***`."""
        return mask_values(text, self.values) if self.values else text


class MaskingStream:
    """A text stream that masks secret values before writing to the one it wraps."""

    def __init__(self, stream: TextIO, mask: Callable[[str], str]) -> None:
        self._stream = stream
        self._mask = mask

    def write(self, text: str) -> int:
        self._stream.write(self._mask(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install_masking(secrets: Secrets) -> None:
    """Masks secret values in everything this process prints (Locust's logs, tracebacks);
    installed before Locust sets its logging up, so its handlers write through it."""
    if not isinstance(sys.stdout, MaskingStream):
        sys.stdout = MaskingStream(sys.stdout, secrets.mask)
    if not isinstance(sys.stderr, MaskingStream):
        sys.stderr = MaskingStream(sys.stderr, secrets.mask)
