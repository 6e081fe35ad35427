from __future__ import annotations

import resource
import subprocess
import sys
import time

import psutil

from harness.processes import raise_open_files_limit, stop_process_group

# a parent that ignores SIGTERM, with a child in its session that does the same
_STUBBORN = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "child = subprocess.Popen([sys.executable, '-c', "
    "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(60)\n"
)


def test_open_files_limit_is_raised_to_the_hard_limit() -> None:
    soft = raise_open_files_limit()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert soft == hard or hard == resource.RLIM_INFINITY


def test_a_process_group_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _STUBBORN], stdout=subprocess.PIPE, start_new_session=True
    )
    assert process.stdout is not None
    child_pid = int(process.stdout.readline())
    started = time.monotonic()
    stop_process_group(process, grace_s=0.5)
    assert time.monotonic() - started >= 0.5
    assert process.returncode is not None
    give_up_at = time.monotonic() + 5
    while psutil.pid_exists(child_pid) and time.monotonic() < give_up_at:
        if psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.05)
    assert not psutil.pid_exists(child_pid) or (
        psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE
    )


def test_stopping_a_process_that_has_exited_does_nothing() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    process.wait()
    stop_process_group(process, grace_s=5.0)
    assert process.returncode == 0
