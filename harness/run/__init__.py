"""The run stage: a plan becomes load, and the load becomes a run directory.

    run           run a RunRequest (resolve the plan, start the target if embedded, start and
                  watch the Locust processes) and leave RUN_DIR/plan.json and run.json
    RunRequest    everything `perfctl run` was asked for
    join_master   `perfctl worker`: one more load generator for a master elsewhere
    EmbeddedBackend   the reference backend as a child process on a free port (`perfctl
                  capacity` starts one for all its steps)
    BackendOptions    how the embedded backend is started

`run` takes `start_breach_watch`: how abort on breach stops the load. The rule is the
verdict's; the run stage defines only the shape it calls (`_breach_watch.py`), and the
pipeline hands it the verdict's `AbortWatch`.
"""

from harness.run._runner import (
    RunRequest,
    run,
)
from harness.run._target import BackendOptions, EmbeddedBackend
from harness.run._worker import join_master

__all__ = [
    "BackendOptions",
    "EmbeddedBackend",
    "RunRequest",
    "join_master",
    "run",
]
