"""`perfctl worker` joining a master that the runner started (real Locust processes)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.run._runner import RunRequest, run
from harness.run._target import find_free_port
from harness.run._worker import join_master
from tests.harness.run._support import FAKE_ENGINE, tiny_plan, tiny_target, write_plan


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    with tiny_target() as url:
        yield url


def test_a_worker_refuses_a_missing_plan_or_a_bad_master(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        join_master("127.0.0.1:5557", tmp_path / "absent.json", tmp_path)
    with pytest.raises(UsageError, match="HOST"):
        join_master("127.0.0.1:notaport", None, tmp_path)


def test_a_worker_runs_until_its_master_ends_the_run(tmp_path: Path, target: str) -> None:
    """A master started by the runner, waiting for one remote worker that joins it."""
    port = find_free_port()
    plan_file = write_plan(tmp_path / "tiny-plan.json", tiny_plan(users=2, run_time_s=4.0))
    request = RunRequest(
        scenario=str(plan_file),
        target=target,
        out_dir=tmp_path / "reports",
        run_id="m",
        quiet=True,
        remote_workers=1,
        master_bind=f"127.0.0.1:{port}",
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from harness.run._worker import join_master; "
            "join_master(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), "
            "locustfile=Path(sys.argv[4]))",
            f"127.0.0.1:{port}",
            str(plan_file),
            str(tmp_path / "remote"),
            str(FAKE_ENGINE),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        result = run(request, locustfile=FAKE_ENGINE)
        _, stderr = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert result.record.status == "completed"
    assert result.record.workers_expected == 1
    assert worker.returncode == 0, stderr
    assert "the master ended the run" in stderr
    (log,) = (tmp_path / "remote").glob("worker-*/logs/worker.log")
    assert "Got quit message from master" in log.read_text()
