"""`perfctl serve --rate-limit-per-s/--rate-limit-burst`: the gateway's bucket per client key."""

from __future__ import annotations

import httpx

from tests.reference_backend._infra import ServeProcess


def test_a_client_key_gets_its_burst_then_429_with_retry_after() -> None:
    with ServeProcess("--rate-limit-per-s", "0.5", "--rate-limit-burst", "3") as server:
        answers = [
            httpx.get(f"{server.url}/health", headers={"X-Client-Key": "one"}, timeout=10)
            for _ in range(5)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        assert int(answers[3].headers["retry-after"]) >= 1
        assert answers[0].headers["ratelimit-limit"] == "3"
        other = httpx.get(f"{server.url}/health", headers={"X-Client-Key": "two"}, timeout=10)
        assert other.status_code == 200  # a bucket per key
