"""A real reference backend (`perfctl serve` on a free port, fault admin on) per test module."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator

import pytest

from harness.run._target import find_free_port
from tests.harness.observe._support import ADMIN_TOKEN, PERFCTL, wait_for


@pytest.fixture(scope="module")
def backend_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reference backend, one worker, SQLite, for the tests of one module."""
    port = find_free_port()
    log = tmp_path_factory.mktemp("backend") / "backend.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                PERFCTL,
                "serve",
                "--port",
                str(port),
                "--admin-token",
                ADMIN_TOKEN,
                "--catalog-size",
                "300",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/ready", deadline_s=60.0)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
