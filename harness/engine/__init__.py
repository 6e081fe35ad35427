"""perfctl's load engine: runs inside Locust processes started with `-f harness/engine/locustfile.py`.

The only package that imports locust and gevent (which monkey-patch the process). Modules:
`schedule` (pure stage and arrival math), `recorder` (requests → per-second HDR windows in
every load-generating process), `collector` (master or local process: exact merge, run-dir
files, generator health), `journeys` and `flow` (what a user does), `users` (closed-model
users, the open-model arrival driver, a team's locustfile users), `drops` (whose failure an
arrival dropped at the concurrency cap is), `shape` (the LoadTestShape and the graceful stop),
`stopping` (a user stopped in its think time starts no other iteration), `wire` (whether a
cut-off request was sent), `phases` (a request's connect time and time to first byte),
`locustfile` (the entry point that wires them to Locust's events).
"""

from pathlib import Path

ENGINE_LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
"""The engine's entry point; found by path so the process that starts Locust never imports it."""

__all__ = ["ENGINE_LOCUSTFILE"]
