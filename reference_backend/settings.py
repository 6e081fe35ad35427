"""Settings of the reference backend, shared by every agent and by `perfctl serve`.

`perfctl serve` hands them to its uvicorn workers as JSON in `PERFCTL_BACKEND_SETTINGS`
(`settings_to_json`); each worker's app reads them back with `settings_from_env`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import Any

from reference_backend.errors import SettingsError

SETTINGS_ENV = "PERFCTL_BACKEND_SETTINGS"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `create_app(settings)` needs to build the backend."""

    host: str = "127.0.0.1"
    """Address uvicorn binds."""
    port: int = 8000
    """Port uvicorn binds."""
    workers: int = 1
    """Server processes behind the same port."""
    redis_url: str | None = None
    """Redis URL for the shared cache tier; None means in-process cache only."""
    database_url: str | None = None
    """postgresql:// URL; None means the embedded SQLite database."""
    sqlite_path: str | None = None
    """SQLite file for the embedded database; None means a fresh temporary file."""
    catalog_size: int = 2000
    """Products the data generator seeds."""
    users: int = 500
    """Users the data generator seeds."""
    seed: int = 42
    """Seed of the deterministic data generator."""
    admin_token: str | None = None
    """Enables /admin fault injection guarded by this token; None means no admin routes."""
    agent_urls: tuple[tuple[str, str], ...] = ()
    """Agent name -> base URL for agents in separate processes; empty means all in-process."""
    rate_limit_per_s: float = 5000.0
    """Token-bucket refill rate per client key at the gateway."""
    rate_limit_burst: int = 10000
    """Token-bucket capacity per client key at the gateway."""
    request_timeout_s: float = 10.0
    """Gateway timeout for one request."""
    session_ttl_s: float = 3600.0
    """How long a login's token (and session cookie) stays valid."""
    payment_latency_ms: float = 40.0
    """Median latency of the simulated payment provider."""
    payment_latency_p99_ms: float = 200.0
    """99th percentile latency of the simulated payment provider (lognormal)."""
    payment_decline_rate: float = 0.02
    """Fraction of charges the simulated provider declines."""


def settings_to_json(settings: Settings) -> str:
    """Encode settings for `PERFCTL_BACKEND_SETTINGS`."""
    return json.dumps(dataclasses.asdict(settings))


def settings_from_json(text: str) -> Settings:
    """Decode what `settings_to_json` wrote (JSON turns tuples into lists; undo that)."""
    data: dict[str, Any] = json.loads(text)
    data["agent_urls"] = tuple(tuple(pair) for pair in data.get("agent_urls", ()))
    return Settings(**data)


def settings_from_env() -> Settings:
    """Read the settings `serve_backend` passed to its workers."""
    text = os.environ.get(SETTINGS_ENV)
    if not text:
        raise SettingsError(f"{SETTINGS_ENV} is not set: start workers with `perfctl serve`")
    return settings_from_json(text)
