"""The live web view of a run (`perfctl run --ui [PORT]`) and perfctl's own /metrics.

    LiveView          binds 127.0.0.1:PORT (exit 2 when taken), serves the page, its
                      Server-Sent Events, /metrics and the report, from before the load until
                      the report is written; the run stage hands it the run directory
                      (`follow`), and it tails that directory's files from the `perfctl run`
                      process, so local and distributed runs look the same
    DEFAULT_UI_PORT   the port of `--ui` without one (8089, Locust's web UI port)
    LiveState         what the view knows: every merged second fed in, the page's snapshot and
                      the metrics read out (tests feed it directly)
    metrics_registry  a Prometheus registry of its own over a LiveState (perfctl_* metrics)

The page's objective statuses are provisional (`harness.verdict.ProvisionalJudge` on the data
so far) until the verdict is written, then the verdict's.
"""

from harness.live._metrics import metrics_registry
from harness.live._state import LiveState
from harness.live._view import DEFAULT_UI_PORT, LiveView

__all__ = ["DEFAULT_UI_PORT", "LiveState", "LiveView", "metrics_registry"]
