"""Which recorded headers a scenario replays, and which recorded values it must not hold.

A browser sends many headers only a browser needs (cookies, `sec-ch-ua`, `accept-language`,
HTTP/2 pseudo-headers): they are dropped. Credentials (an Authorization header, an API key,
a password in a login body, a token in a query) are never written into the scenario: they
become `${env:NAME}` placeholders, filled from the environment when the run starts, and the
importer tells the user which variables to set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.importers._names import snake_case
from harness.redaction import is_secret_name

DROPPED_HEADERS = frozenset(
    {
        # the engine's HTTP client sets these itself
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "accept-encoding",
        "content-type",  # a JSON body gets application/json from the client
        # browser state and noise: cookies are the target's to set during the run
        "cookie",
        "user-agent",
        "accept-language",
        "referer",
        "origin",
        "cache-control",
        "pragma",
        "dnt",
        "priority",
        "upgrade-insecure-requests",
        "if-none-match",
        "if-modified-since",
        "purpose",
        "x-requested-with",
    }
)
"""Lower-case names of request headers a scenario does not replay."""

_DROPPED_PREFIXES = ("sec-", ":", "x-client-data", "x-browser-")
_SCHEME_TOKEN = re.compile(r"^(Bearer|Token|Basic|Digest)\s+(\S+)$", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def kept_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """The headers worth replaying, in recorded order, the first of a repeated name."""
    kept: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in headers:
        lowered = name.lower()
        if lowered in seen or lowered in DROPPED_HEADERS or lowered.startswith(_DROPPED_PREFIXES):
            continue
        if lowered == "accept" and ("text/html" in value or value.strip() == "*/*"):
            continue  # the browser's default, not something the API asked for
        seen.add(lowered)
        kept[name] = value
    return kept


def env_placeholder(name: str) -> str:
    """`${env:NAME}`: the value of environment variable NAME when the run starts."""
    return f"${{env:{name}}}"


@dataclass(slots=True)
class SecretVault:
    """Replaces recorded secrets by `${env:NAME}` placeholders and remembers the names."""

    names: dict[str, str] = field(default_factory=dict)
    """Environment variable -> where it is used (for the note to the user)."""

    def header(self, name: str, value: str) -> str:
        """The header value to write: a placeholder when the header carries a credential
        that correlation did not already turn into a variable."""
        if not is_secret_name(name) or _PLACEHOLDER.search(value):
            return value
        scheme = _SCHEME_TOKEN.match(value)
        if scheme and name.lower() in ("authorization", "proxy-authorization"):
            kind = scheme.group(1)
            env = "API_BASIC_AUTH" if kind.lower() == "basic" else "API_TOKEN"
            return f"{kind} {self.secret(env, f'the {name} header ({kind} credentials)')}"
        return self.secret(snake_case(name).upper(), f"the {name} header")

    def query(self, name: str, value: str) -> str:
        """A query value to write: a placeholder for a token or key."""
        if not is_secret_name(name) or _PLACEHOLDER.search(value):
            return value
        return self.secret(snake_case(name).upper(), f"the query parameter {name}")

    def body(self, value: Any, key: str = "") -> Any:
        """A JSON body with every secret-named string field (password, token, ...) replaced."""
        if isinstance(value, dict):
            return {k: self.body(item, str(k)) for k, item in value.items()}
        if isinstance(value, list):
            return [self.body(item, key) for item in value]
        if isinstance(value, str) and key and is_secret_name(key):
            if _PLACEHOLDER.fullmatch(value):
                return value
            return self.secret(snake_case(key).upper(), f"the body field {key}")
        return value

    def secret(self, env: str, where: str) -> str:
        """The placeholder for environment variable `env`, remembered as standing for `where`."""
        env = self._name(env)
        self.names.setdefault(env, where)
        return env_placeholder(env)

    def _name(self, name: str) -> str:
        return name if re.fullmatch(r"[A-Z_][A-Z0-9_]*", name) else f"SECRET_{name}"
