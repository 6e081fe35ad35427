"""Secret `${env:...}` values in an engine process: expanded in memory, shipped to workers,
masked in what the process prints and in its error messages."""

from __future__ import annotations

import io
import json

from harness.engine._recorder import Recorder
from harness.engine._secrets import MaskingStream, Secrets

PLAN = {"steps": [{"headers": {"Authorization": "Bearer ${env:TOKEN}"}, "path": "/${env:R:-eu}"}]}


def test_the_plan_is_expanded_from_the_environment_and_the_values_remembered() -> None:
    secrets = Secrets()
    expanded = secrets.expand_plan(PLAN, {"TOKEN": "tok-123", "OTHER": "x"})
    assert expanded["steps"][0] == {"headers": {"Authorization": "Bearer tok-123"}, "path": "/eu"}
    assert secrets.values == ("tok-123",)
    assert secrets.mask("GET /x?token=tok-123 failed") == "GET /x?token=*** failed"


def test_a_worker_takes_the_values_its_master_shipped() -> None:
    master = Secrets()
    option = master.option_text(PLAN, {"TOKEN": "tok-123", "OTHER": "x"})
    assert json.loads(option) == {"TOKEN": "tok-123"}
    worker = Secrets()
    worker.adopt_option(option)
    expanded = worker.expand_plan(PLAN, {})
    assert expanded["steps"][0]["headers"]["Authorization"] == "Bearer tok-123"
    worker.adopt_option("not json")  # ignored
    assert worker.shipped == {"TOKEN": "tok-123"}


def test_printed_text_is_masked() -> None:
    secrets = Secrets()
    secrets.expand_plan(PLAN, {"TOKEN": "tok-123"})
    sink = io.StringIO()
    stream = MaskingStream(sink, secrets.mask)
    stream.write("Traceback: request to /a?k=tok-123 failed\n")
    stream.flush()
    assert sink.getvalue() == "Traceback: request to /a?k=*** failed\n"


def test_the_recorder_masks_error_messages_before_they_leave_the_process() -> None:
    secrets = Secrets()
    secrets.expand_plan(PLAN, {"TOKEN": "tok-123"})
    recorder = Recorder()
    recorder.mask = secrets.mask
    recorder.record("op", "check_failed", 5.0, error="body does not contain 'tok-123'")
    recorder.record("op", "check_failed", 5.0, error="body does not contain 'tok-123'")
    (window,) = recorder.drain(final=True).windows
    assert window.errors == {"body does not contain '***'": 2}
