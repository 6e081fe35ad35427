"""Helpers of the observe tests: waiting on URLs, driving load, setting backend faults."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ADMIN_TOKEN = "observe-tests"
PERFCTL = str(Path(sys.executable).with_name("perfctl"))


def wait_for(url: str, deadline_s: float = 30.0) -> None:
    """Return once `url` answers 200; fail the test after the deadline."""
    give_up_at = time.monotonic() + deadline_s
    while time.monotonic() < give_up_at:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} did not answer 200 within {deadline_s} s")


def set_faults(url: str, faults: list[dict[str, object]]) -> None:
    """Replace the backend's faults (PUT /admin/faults)."""
    request = urllib.request.Request(
        f"{url}/admin/faults",
        data=json.dumps({"faults": faults}).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def drive(url: str, duration_s: float, *, clients: int = 1, rate_per_s: float | None = None) -> int:
    """Send product searches from `clients` threads for `duration_s` (each at most
    `rate_per_s`); return how many were answered."""
    answered = [0] * clients
    stop_at = time.monotonic() + duration_s

    def client(index: int) -> None:
        next_at = time.monotonic()
        while time.monotonic() < stop_at:
            try:
                with urllib.request.urlopen(
                    f"{url}/api/products/search?q=phone&page={index % 3 + 1}", timeout=5
                ) as response:
                    response.read()
                answered[index] += 1
            except OSError:
                pass
            if rate_per_s is not None:
                next_at += 1 / rate_per_s
                time.sleep(max(0.0, next_at - time.monotonic()))

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(answered)


def scraped_once(prometheus_url: str, deadline_s: float = 30.0) -> None:
    """Wait until Prometheus has stored a scrape of the target (a fresh Prometheus starts
    scraping a few seconds after it is ready: discovery updates are batched)."""
    from prometheus_api_client import PrometheusConnect

    client = PrometheusConnect(prometheus_url)
    give_up_at = time.monotonic() + deadline_s
    while time.monotonic() < give_up_at:
        if client.custom_query('up{job="perfctl-target"} == 1'):
            return
        time.sleep(0.2)
    pytest.fail("Prometheus never scraped the target")
