"""`perfctl serve --agent-url`: an agent in its own process, called over HTTP with a breaker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from reference_backend.passwords import DEMO_PASSWORD
from tests.reference_backend._infra import ServeProcess

PERFCTL = str(Path(sys.executable).with_name("perfctl"))


def _payments_total(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("payments_total{")
    )


def _checkout(front: str, user_id: int) -> httpx.Response:
    login = {"username": f"user{user_id}", "password": DEMO_PASSWORD}
    token = httpx.post(f"{front}/api/login", json=login, timeout=10).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    added = httpx.post(
        f"{front}/api/cart/{user_id}/items",
        json={"product_id": 3, "quantity": 1},
        headers=auth,
        timeout=10,
    )
    assert added.status_code in (200, 201), added.text
    return httpx.post(
        f"{front}/api/orders",
        json={"user_id": user_id, "card_token": "tok_visa"},
        headers=auth,
        timeout=30,
    )


def test_checkout_charges_through_a_payments_agent_in_another_process() -> None:
    with (
        ServeProcess() as payments,
        ServeProcess("--agent-url", f"payments={payments.url}") as front,
    ):
        before = _payments_total(payments.url)
        answer = _checkout(front.url, 7)
        assert answer.status_code in (201, 402), answer.text
        assert _payments_total(payments.url) == before + 1  # charged over there
        assert _payments_total(front.url) == 0  # not here
        payments.stop()
        # the payments process is gone: a clean 5xx JSON error, never a 500 traceback
        failed = _checkout(front.url, 8)
        assert failed.status_code in (502, 503, 504), failed.text
        assert "error" in failed.json()


def test_a_bad_agent_url_is_a_usage_error() -> None:
    done = subprocess.run(
        [PERFCTL, "serve", "--agent-url", "billing=http://127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "--agent-url must be AGENT=http://HOST:PORT" in done.stderr
