"""The measured data of a run: what the engine writes into the run directory and how to read it.

Interface changes against the runner/engine brief (engine_ifaces.md)
--------------------------------------------------------------------
- The histogram fields of timeline.jsonl are named with their unit: `latency_us`, `service_us`.
- The same (t, op) may appear on more than one line (a worker's data arriving after the
  master already wrote that second); readers add them. `Timeline` does this for you.
- `RunPlan` gained `connections` (open model: HTTP connections shared by in-flight journeys).
- engine.json also carries `planned_arrivals`, `started_arrivals`, `dropped_arrivals`.
- Offset 0 of the plan is the next whole unix second after Locust starts the test, so
  `started_at` is an integer and the plan's seconds are the timeline's windows.
- The engine handles SIGTERM itself while a headless shape run is going (Locust installs its
  own handler only after the shape ends, so SIGTERM would otherwise kill without a flush):
  the load stops, the last windows (workers' included) are written, engine.json says aborted.
- A worker started without PERFCTL_PLAN_FILE (a remote `perfctl worker`) receives the plan
  from its master through Locust's options; only `locustfile` journeys need the file there.
- The open model ends once every driver has seen its journeys finish (at most the request
  timeout after the last arrival), so in-flight requests are measured, not cut off.

Files (one JSON object per line, appended while the run goes, flushed at least every second)
---------------------------------------------------------------------------------------------
``timeline.jsonl`` — one line per (one-second window, operation) once that second is finished
and merged across workers::

    {"t": 1764222000,                 # window start, unix seconds (int); a request counts in
                                      # the second in which it completed
     "op": "product_search",          # operation (join key with the SLA); "journey.<name>"
                                      # lines time a whole journey iteration
     "counts": {"ok": 97, "http_4xx": 0, "http_5xx": 1, "timeout": 0,
                "connection_error": 2, "check_failed": 0, "dropped": 0,
                "interrupted": 0},
     "bytes": 123456,                 # response bytes
     "latency_us": "HISTFAAAA...",    # HDR histogram (V2 compressed, base64), microseconds,
                                      # 1 us .. 1 h, 3 significant digits: latency from the
                                      # intended start (open model: coordinated-omission
                                      # corrected; closed model: the measured response time)
     "service_us": "HISTFAAAA..." | null,  # open model: latency from the actual send
     "errors": {"HTTP 503": 1, "ConnectionRefusedError(111, ...)": 2},   # top 20 messages
     "connect_us": "HISTFAAAA...",    # optional: connect time of each request that opened
                                      # a new connection (absent when none did)
     "ttfb_us": "HISTFAAAA..."}       # optional: time to first byte of each answered request

Outcomes: `ok` (2xx/3xx or a status the scenario declared as expected), `http_4xx`, `http_5xx`,
`timeout` (no answer within the plan's request timeout; its latency is recorded),
`connection_error` (refused/reset/unreachable; no latency recorded, it would pull percentiles
down), `check_failed` (a 2xx/3xx answer that failed a declared check: body, JSON path,
status, latency), `dropped` (open model: an arrival never sent because the target kept every
journey slot busy with responses outstanding; counted against the operation of the journey's
first step, no latency), `interrupted` (still in flight when the graceful stop ran out; its
elapsed time is recorded). The latency histograms hold every request except connection
errors and dropped arrivals.

Open model, latency twice: a journey's arrival has an intended start; the intended start of
each later step is the previous step's intended start plus its service time and think time.
`latency_us` = completion - intended start (includes scheduler lag and waiting for a free
connection), `service_us` = completion - actual send.

Connection phases, where the HTTP client exposes them (Locust's FastHttpUser, which perfctl's
journeys use; a team's HttpUser records none): `connect_us` holds, for each request that
opened a new connection, the time its TCP connect took (and the TLS handshake for https;
summed over a redirect chain); a request that reused a pooled keep-alive connection has none,
so the histogram's count is the window's new connections. `ttfb_us` holds each answered
request's time to first byte: from handing it to the HTTP client to its parsed response head
(curl's time_starttransfer: the wait for a pooled connection and the connect included). A
connect of a second or more is a SYN the target dropped and the client retransmitted (its
listen backlog or accept loop was full), not a slow handler. Both keys are absent when no
request of the window recorded one, and in run directories of versions before them.

``load.jsonl`` — one line per second (written with that second's timeline lines)::

    {"t": 1764222000, "stage": "peak", "users": 50 | null, "planned_arrivals": 100 | null,
     "started_arrivals": 99 | null, "dropped_arrivals": 1, "dropped_by_target": 1,
     "achieved_rps": 312.0,
     "workers": 2, "cpu_percent": {"master": 3.0, "worker-1": 71.5, "worker-2": 70.0}}

`users`: closed model, users running. Open model: `planned_arrivals` is the plan's number
for that second (the integral of its rate, so a lost worker shows as started < planned),
`started_arrivals` the journeys that started in it, `dropped_arrivals` the arrivals not
started because every journey slot (`max_concurrency`) was busy; `dropped_by_target` the part
of them dropped while the busy slots were waiting on responses (the target's failure; the rest
is the generator's shortfall).
`cpu_percent` is percent of one core per Locust process ("local" when there are no workers).

``events.jsonl``::

    {"t": 1764222000.25, "kind": "worker_joined|worker_lost|generator_saturated|behind_plan|
     stage_started|stopping|abort|arrivals_dropped|data_exhausted", "detail": "a sentence"}

``engine.json`` (written once, when the engine stops)::

    {"status": "completed|aborted", "reason": "...", "started_at": <unix s, offset 0 of the
     plan's stages>, "ended_at": <unix s>, "workers_lost": 0, "saturated": false,
     "behind_plan": false, "locust_version": "2.x", "planned_arrivals": n | null,
     "started_arrivals": n | null, "dropped_arrivals": 0, "dropped_by_target": 0,
     "files": {"timeline.jsonl": {"lines": 96, "bytes": 26686, "requests": 250},
               "load.jsonl": {"lines": 21, "bytes": 4079, "requests": null},
               "events.jsonl": {"lines": 3, "bytes": 198, "requests": null}}}

`files` is what the engine's writer wrote to each line file (`requests`: the sum of every
outcome count over the timeline), so a reader can tell a complete file from one cut or
changed after the run. Runs of older versions have no `files`.

A stage of the plan covers the windows `started_at + stage.start_s <= t < started_at + stage.end_s`.

Reading is strict. Each line is read into the record that wrote it (`WindowLine`,
`LoadSample`, `EngineEvent`; engine.json into `EngineSummary`) in pydantic's strict mode: a
missing key, a wrong type (`"http_4xx": "x"`), a negative count, a histogram that is not a
base64 HDR histogram, or an unknown key is a RunDirError naming `file:line` and the field.
When engine.json has `files`, each file must match it (bytes, lines, requests) and a last
line cut off mid-write is corruption; without it (the engine was killed or died) a cut-off
last line is skipped and the run-directory reader (`harness.rundir`) reports it.
`harness.rundir.open_run_dir` is the way into a whole run directory; the readers here are
its parts.

Public names
------------
Reading::

    read_timeline        a run's timeline.jsonl as a `Timeline` (checked against engine.json)
    Timeline             streaming queries over it: percentile_ms, histogram, counts, errors,
                         series, requests_per_second, achieved_rps, to_frame
    WindowStats          one operation in one second as `Timeline.series` gives it
    read_load            load.jsonl as `LoadSample`s, in time order
    read_events          events.jsonl as `EngineEvent`s, in file order
    read_engine_summary  engine.json as an `EngineSummary`, None before the engine finished
    load_frame           load.jsonl as a pandas DataFrame, one row per second
    line_file_checks     how to read each line file of a run (against the engine's tally)
    decoded              run a line's histogram decoding, a RunDirError naming the line if corrupt
    JOURNEY_PREFIX       the prefix of operations that time a whole journey ("journey.")

Line files, strictly::

    read_lines           (line number, record) of a line file, each line checked
    LineFileCheck        what a line file is checked against (tally, torn last line allowed)
    LineTail             new complete lines of a file still being written
    TornTail, torn_tail  a last line cut off mid-write, and finding one
    check_size           a line file's size against the engine's tally

Records (one a line, or engine.json)::

    WindowLine           one timeline.jsonl line, as read (histograms still encoded)
    WindowRecord         one (second, operation) being recorded or merged (histograms decoded)
    OutcomeCounts        requests of a window by outcome; Outcome, OUTCOMES: the outcomes
    LoadSample           one load.jsonl line
    EngineEvent          one events.jsonl line; EventKind: its kinds
    EngineSummary        engine.json; EngineStatus: completed or aborted
    FileTally            what the engine wrote to one line file (lines, bytes, requests)
    Count                a non-negative integer field; MalformedError: a record that is not one
    parse_json           a record from JSON text in pydantic's strict mode
    parse_python         a record from Python data in pydantic's strict mode

Histograms (one format, two decoders pinned equal by a test)::

    LatencyHistogram     hdrh: record, add exactly, percentiles, encode/decode (engine, verdict)
    BucketCounts         numpy count array of an encoded histogram: bulk merging (report)
    merge_encoded        the sum of encoded histograms as `BucketCounts`, None for none
    HIGHEST_US           the largest trackable latency (one hour, in microseconds)
    SIGNIFICANT_DIGITS   the precision of every histogram (3)

Writing::

    RunDirWriter         the engine's writer of the three line files and engine.json
    TIMELINE_FILE, LOAD_FILE, EVENTS_FILE, ENGINE_FILE, LINE_FILES   the files' names
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.timeline._histogram import (
    HIGHEST_US,
    SIGNIFICANT_DIGITS,
    BucketCounts,
    LatencyHistogram,
    merge_encoded,
)
from harness.timeline._jsonl import (
    LineFileCheck,
    LineTail,
    TornTail,
    check_size,
    read_lines,
    torn_tail,
)
from harness.timeline._reader import (
    JOURNEY_PREFIX,
    Timeline,
    decoded,
    line_file_checks,
    read_engine_summary,
    read_events,
    read_load,
    read_timeline,
)
from harness.timeline._records import (
    EngineEvent,
    EngineStatus,
    EngineSummary,
    EventKind,
    FileTally,
    LoadSample,
)
from harness.timeline._validate import Count, MalformedError, parse_json, parse_python
from harness.timeline._window import (
    OUTCOMES,
    Outcome,
    OutcomeCounts,
    WindowLine,
    WindowRecord,
    WindowStats,
)
from harness.timeline._writer import (
    ENGINE_FILE,
    EVENTS_FILE,
    LINE_FILES,
    LOAD_FILE,
    TIMELINE_FILE,
    RunDirWriter,
)

if TYPE_CHECKING:
    import pandas


def load_frame(run_dir: str | Path) -> pandas.DataFrame:
    """load.jsonl as a DataFrame, one row per second."""
    # imported here, not at the top: pandas takes a second to import and only frames need it
    from harness.timeline._frames import load_frame as frame

    return frame(read_load(run_dir))


__all__ = [
    "ENGINE_FILE",
    "EVENTS_FILE",
    "HIGHEST_US",
    "JOURNEY_PREFIX",
    "LINE_FILES",
    "LOAD_FILE",
    "OUTCOMES",
    "SIGNIFICANT_DIGITS",
    "TIMELINE_FILE",
    "BucketCounts",
    "Count",
    "EngineEvent",
    "EngineStatus",
    "EngineSummary",
    "EventKind",
    "FileTally",
    "LatencyHistogram",
    "LineFileCheck",
    "LineTail",
    "LoadSample",
    "MalformedError",
    "Outcome",
    "OutcomeCounts",
    "RunDirWriter",
    "Timeline",
    "TornTail",
    "WindowLine",
    "WindowRecord",
    "WindowStats",
    "check_size",
    "decoded",
    "line_file_checks",
    "load_frame",
    "merge_encoded",
    "parse_json",
    "parse_python",
    "read_engine_summary",
    "read_events",
    "read_lines",
    "read_load",
    "read_timeline",
    "torn_tail",
]
