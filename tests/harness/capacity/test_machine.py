"""The machine's busy cores over a span, from the kernel's CPU times."""

from __future__ import annotations

import time

import psutil
import pytest

from harness.capacity._machine import MachineCpu


def spin(seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def test_a_busy_loop_shows_as_about_one_core_busy() -> None:
    with MachineCpu(interval_s=0.1) as machine:
        time.sleep(0.25)
        start_t = time.time()
        spin(1.0)
        end_t = time.time()
        time.sleep(0.25)
    busy = machine.busy_cores(start_t, end_t)
    assert busy is not None
    # this process spun one core; whatever else the machine did adds, never subtracts
    assert 0.8 <= busy <= psutil.cpu_count()


def test_a_span_outside_the_samples_has_no_figure() -> None:
    with MachineCpu(interval_s=0.1) as machine:
        time.sleep(0.3)
    now = time.time()
    assert machine.busy_cores(now + 10, now + 20) is None
    assert machine.busy_cores(now - 3600, now - 3500) is None


@pytest.mark.parametrize("interval_s", [0.05, 0.2])
def test_the_span_is_measured_between_the_samples_enclosing_it(interval_s: float) -> None:
    with MachineCpu(interval_s=interval_s) as machine:
        time.sleep(0.5)
        start_t = time.time()
        time.sleep(0.5)
        end_t = time.time()
        time.sleep(0.5)
    busy = machine.busy_cores(start_t, end_t)
    assert busy is not None
    assert 0 <= busy <= psutil.cpu_count()
