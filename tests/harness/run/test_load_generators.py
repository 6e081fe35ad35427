from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from harness.engine import ENGINE_LOCUSTFILE
from harness.errors import EngineError, UsageError
from harness.run._load_generators import (
    EngineEnvironment,
    LoadGenerators,
    locust_command,
    parse_master_address,
)


def test_the_engine_is_found_by_path_under_harness() -> None:
    assert ENGINE_LOCUSTFILE.parts[-3:] == ("harness", "engine", "locustfile.py")


def test_local_command_is_headless_and_keeps_the_exit_code_for_the_runner() -> None:
    command = locust_command(Path("/e.py"), "local")
    assert command[:3] == [sys.executable, "-m", "locust"]
    assert "--headless" in command
    assert command[command.index("--exit-code-on-error") + 1] == "0"
    assert "--master" not in command
    assert "--worker" not in command


def test_master_waits_for_its_workers_on_the_bound_port() -> None:
    command = locust_command(
        Path("/e.py"), "master", expect_workers=3, master_host="0.0.0.0", master_port=5600
    )
    assert command[command.index("--expect-workers") + 1] == "3"
    assert command[command.index("--master-bind-host") + 1] == "0.0.0.0"
    assert command[command.index("--master-bind-port") + 1] == "5600"


def test_worker_joins_the_master() -> None:
    command = locust_command(Path("/e.py"), "worker-2", master_host="10.0.0.5", master_port=5600)
    assert command[-5:] == ["--worker", "--master-host", "10.0.0.5", "--master-port", "5600"]
    assert "--headless" not in command


def test_a_worker_needs_a_port() -> None:
    with pytest.raises(ValueError, match="master_port"):
        locust_command(Path("/e.py"), "worker-1")


def test_the_target_reaches_the_engine_through_the_environment(tmp_path: Path) -> None:
    variables = EngineEnvironment(tmp_path / "plan.json", tmp_path, "http://u:pw@h").variables(
        "local"
    )
    assert variables["LOCUST_HOST"] == "http://u:pw@h"
    assert variables["PERFCTL_PLAN_FILE"] == str(tmp_path / "plan.json")
    assert variables["PERFCTL_RUN_DIR"] == str(tmp_path)


def test_a_missing_engine_is_an_engine_error(tmp_path: Path) -> None:
    environment = EngineEnvironment(tmp_path / "plan.json", tmp_path, "http://h")
    with pytest.raises(EngineError, match="missing"):
        LoadGenerators(environment, tmp_path, workers=0, locustfile=tmp_path / "absent.py")


def test_children_die_with_a_killed_runner(tmp_path: Path) -> None:
    parent_code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from harness.run._load_generators import LocustProcess\n"
        "child = LocustProcess('local', [sys.executable, '-c', 'import time; time.sleep(60)'],"
        " {}, Path(sys.argv[1]))\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code, str(tmp_path / "child.log")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    give_up_at = time.monotonic() + 10
    while time.monotonic() < give_up_at and psutil.pid_exists(child_pid):
        if psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.05)
    assert not psutil.pid_exists(child_pid) or (
        psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE
    )


def test_master_addresses_take_an_optional_port() -> None:
    assert parse_master_address("10.0.0.5", 5557) == ("10.0.0.5", 5557)
    assert parse_master_address("10.0.0.5:6000", 5557) == ("10.0.0.5", 6000)
    with pytest.raises(UsageError, match="HOST"):
        parse_master_address("h:0", 5557)
