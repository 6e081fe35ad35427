"""The diagnosis: a few ranked sentences on why a run came out as it did, from its own data.

A failed verdict lists its checks; a person still has to work out from the plots when the
run broke and what gave way. Each rule here reads the judged run (timeline, load.jsonl,
server.jsonl, events.jsonl) beside the verdict, fires only when the data shows its situation,
writes every figure it rests on into its sentence, and names the report section whose plot
shows them. No rule supplies a cause the data does not show: a server is called saturated
only against the SLA's own cpu or memory objective, a pool exhausted only when the target
exposes its size. A run no rule fires on gets one line (`NOTHING_TO_DIAGNOSE`).

Rules, in rank order (`DiagnosisRule`):

- first_breach: the earliest window in which a failed or warned objective went past its
  limit (its own window, or 10-second windows for one judged over its whole scope), with
  the users (or planned arrival rate) and the achieved requests per second then: the knee.
- server_saturated, db_pool_exhausted: in that window, a cpu or memory objective's statistic
  of server.jsonl beyond its limit; db_pool_in_use reaching db_pool_size.
- slow_connect: over the run after warm-up (with or without a breach), connections that took
  a second or more to open, with how many of the requests slower than their latency limit
  waited that long for their connection: a full listen backlog told apart from a slow
  handler. The cause it names follows the shape of the connect times: most of them on the
  SYN retry schedule (1, 3, 7, 15, 31 s) are SYNs the target dropped; spread between those
  times they are delays before or after the handshake, the generator's own when it was
  saturated in the run (its event loop, name resolution), else the target's accept loop.
- dropped_arrivals: open model, load.jsonl counts arrivals dropped (the target's, the
  generator's share).
- operation_broke: each operation or component with a failed or warned check (first broken
  first, at most three): by latency, errors, throughput or resources, and the kinds of its
  failed requests.
- too_close_to_call, generator, run_incomplete, coverage: whether the verdict can be
  trusted: marginal checks; the generator's saturated / behind_plan events, its busiest
  process's CPU, inconclusive checks; a run that did not complete; in-scope objectives left
  unjudged.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.spec import CONFIDENCE, Objective
from harness.timeline import LatencyHistogram
from harness.verdict._coverage import UNJUDGED_STATUSES
from harness.verdict._evaluate import JudgedRun
from harness.verdict._finding import NOTHING_TO_DIAGNOSE, DiagnosisRule, Figure, Finding
from harness.verdict._format import format_limit, format_measured, format_share, format_value
from harness.verdict._judge import read
from harness.verdict._measurements import ALL_OPERATIONS, GENERATOR_TROUBLE
from harness.verdict._model import Check, Verdict
from harness.verdict._scope import NoSpan, Span, scope_span, windows
from harness.verdict._server_kpis import SERVER_SERIES, statistic_of

SCAN_WINDOW_S = 10.0
"""An objective judged over its whole scope is scanned in windows this long to find when it
first went past its limit (a windowed objective is scanned in its own windows)."""
MAX_OPERATIONS = 3
"""Operations given a sentence of their own; the rest are counted."""
MAX_CITED = 3
"""Checks named in one sentence."""
MAX_MESSAGES = 2
"""Error messages named for an operation that broke by errors."""
SLOW_CONNECT_MS = 1000.0
"""A connect this long is a SYN that went unanswered and was sent again. Linux retransmits a
SYN after 1, 3, 7, 15 and 31 s (its initial retransmission timeout is one second) and a
connect to a reachable target takes milliseconds, so a connect of a second or more means the
target dropped the first SYN: its listen backlog was full, or its accept loop stalled. Counted
at HDR precision (a bucket reaching 1,000 ms counts: values down to 999.94 ms)."""
SYN_RETRY_S = (1.0, 3.0, 7.0, 15.0, 31.0)
"""When a connect completes after 1..5 dropped SYNs: Linux retransmits a SYN after 1 s, then
doubles the wait (tcp_syn_retries), so the connect takes that long plus its round trip."""
SYN_RETRY_SLACK = 0.15
"""A connect within this fraction above a retry time (and 200 ms) counts as on the schedule."""
ON_SCHEDULE_SHARE = 0.6
"""Slow connects on the SYN schedule, at least this share: dropped SYNs are the cause."""
MIN_SLOW_CONNECTS = 10
"""Slow connects slow_connect needs at the least: a few in a run are a lost packet each, not
a target that cannot take its connections."""
MIN_SLOW_CONNECT_SHARE = 0.001
"""...or this share of the run's requests if that is more: in a run of a million requests, a
dozen slow connects explain none of its figures."""

_BROKEN = ("fail", "warn")
_CLIENT_SCANNED = ("latency", "error_rate", "availability", "checks")
_SERVER_SCANNED = ("cpu", "memory")
_ERRORS = ("error_rate", "availability", "checks")
_RESOURCES = ("cpu", "memory", "memory_drift")
_THROUGHPUT = ("throughput", "breaking_point")
_ANCHOR = {"latency": "latency", "errors": "errors", "resources": "server", "throughput": "load"}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class Breach:
    """The first window in which a failed or warned check's objective went past its limit."""

    check: Check
    """The check."""
    span: Span
    """The window."""
    value: float
    """The objective's statistic over the window, in the check's unit."""


def diagnose(
    run: JudgedRun, verdict: Verdict, objectives: Sequence[Objective]
) -> tuple[Finding, ...]:
    """The diagnosis of `run` judged as `verdict` on `objectives` (those it was judged on),
    most important first; one `nothing_to_diagnose` finding when no rule fires."""
    by_id = {objective.id: objective for objective in objectives}
    breaches = _breaches(run, verdict, by_id)
    first = min(breaches.values(), key=lambda breach: breach.span.start_t, default=None)
    findings: list[Finding] = []
    if first is not None:
        findings.append(_first_breach(run, first))
        findings += _server_saturated(run, verdict, by_id, first)
        findings += _db_pool_exhausted(run, first)
    findings += _slow_connect(run, verdict)
    findings += _dropped_arrivals(run)
    findings += _operations(run, verdict, breaches)
    findings += _too_close_to_call(verdict)
    findings += _generator(run, verdict, first)
    findings += _run_incomplete(run)
    findings += _coverage(verdict)
    return tuple(findings) or (Finding(DiagnosisRule.NOTHING_TO_DIAGNOSE, NOTHING_TO_DIAGNOSE),)


def _holds(check: Check, value: float) -> bool:
    """Whether `value` meets the check's (scaled) limit."""
    return _COMPARE[check.comparator](value, check.limit)


def _clock(offset_s: float) -> str:
    """Time into the run as a person reads it: `0:40`, `12:05`, `1:02:03`."""
    total = max(round(offset_s), 0)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _window(run: JudgedRun, span: Span) -> str:
    started = run.clock.started_t
    return f"{_clock(span.start_t - started)}–{_clock(span.end_t - started)}"


def _breaches(run: JudgedRun, verdict: Verdict, by_id: dict[str, Objective]) -> dict[str, Breach]:
    """For each failed or warned check the run judged itself, its first window past the
    limit; a check none of whose windows has enough samples to say is left out."""
    found: dict[str, Breach] = {}
    for check in verdict.checks:
        objective = by_id.get(check.id)  # a baseline comparison has no objective of its id
        if objective is None or check.status not in _BROKEN or check.judged_by != "run":
            continue
        span = scope_span(run.plan, run.clock, check.scope)
        if isinstance(span, NoSpan):
            continue
        for part in windows(span, objective.window_s or SCAN_WINDOW_S):
            value = _value(run, objective, part)
            if value is not None and not _holds(check, value):
                found[check.id] = Breach(check, part, value)
                break
    return found


def _value(run: JudgedRun, objective: Objective, part: Span) -> float | None:
    """The objective's statistic over `part`, as the verdict reads it; None when the window
    holds too few samples (the objective's own minimum) or the metric is not scanned."""
    if objective.metric in _CLIENT_SCANNED:
        reading = read(objective, run.data, part)
        return reading.value if reading.samples >= max(objective.min_samples, 1) else None
    if objective.metric in _SERVER_SCANNED and run.server is not None:
        points = run.server.values(SERVER_SERIES[objective.metric], {}, part.start_t, part.end_t)
        if points and len(points) >= objective.min_samples:
            return statistic_of(objective.statistic, [value for _, value in points])
    return None


def _first_breach(run: JudgedRun, breach: Breach) -> Finding:
    check, span = breach.check, breach.span
    at_s = span.start_t - run.clock.started_t
    figures: dict[str, Figure] = {
        "check": check.id,
        "at_s": round(at_s),
        "window_s": span.duration_s,
        "measured": breach.value,
        "limit": check.limit,
        "unit": check.unit,
    }
    load = [sample for sample in run.load if span.start_t <= sample.t < span.end_t]
    users = [sample.users for sample in load if sample.users is not None]
    planned = [s.planned_arrivals for s in load if s.planned_arrivals is not None]
    offered = ""
    if users:
        figures["users"] = max(users)
        offered = f"{max(users):,} users running, "
    elif planned:
        rate = sum(planned) / len(planned)
        figures["planned_arrivals_per_s"] = round(rate, 1)
        offered = f"{rate:,.1f} arrivals/s planned, "
    per_second = run.data.requests_per_second(ALL_OPERATIONS, span.start_t, span.end_t)
    achieved = sum(per_second) / len(per_second) if per_second else 0.0
    figures["achieved_rps"] = round(achieved, 1)
    what = "broke" if check.status == "fail" else "went past its limit (a warning)"
    sentence = (
        f"{check.id} {what} first, {_clock(at_s)} into the run: "
        f"{format_value(breach.value, check.unit)} against {format_limit(check)} over "
        f"{_window(run, span)}, with {offered}{achieved:,.1f} rps achieved (the knee of this run)."
    )
    anchor = "latency" if check.metric == "latency" else "errors"
    if check.metric in _RESOURCES:
        anchor = "server"
    return Finding(DiagnosisRule.FIRST_BREACH, sentence, figures, anchor)


def _server_saturated(
    run: JudgedRun, verdict: Verdict, by_id: dict[str, Objective], first: Breach
) -> list[Finding]:
    """The SLA's cpu and memory objectives read over the first breach's window: each one
    beyond its limit there (the breach itself aside) is a saturated resource."""
    if run.server is None:
        return []
    span = first.span
    findings: list[Finding] = []
    for check in verdict.checks:
        objective = by_id.get(check.id)
        if (
            objective is None
            or objective.metric not in _SERVER_SCANNED
            or check.id == first.check.id
            or check.judged_by != "run"
        ):
            continue
        points = run.server.values(SERVER_SERIES[objective.metric], {}, span.start_t, span.end_t)
        if not points:
            continue
        value = statistic_of(objective.statistic, [value for _, value in points])
        if _holds(check, value):
            continue
        resource = "CPU" if objective.metric == "cpu" else "memory"
        sentence = (
            f"Server {resource} was saturated then: {objective.statistic} "
            f"{format_value(value, check.unit)} over {_window(run, span)} against the SLA's "
            f"{format_limit(check)} ({check.id})."
        )
        figures: dict[str, Figure] = {
            "check": check.id,
            "measured": value,
            "limit": check.limit,
            "unit": check.unit,
            "at_s": round(span.start_t - run.clock.started_t),
            "window_s": span.duration_s,
        }
        findings.append(Finding(DiagnosisRule.SERVER_SATURATED, sentence, figures, "server"))
    return findings


def _db_pool_exhausted(run: JudgedRun, first: Breach) -> list[Finding]:
    """db_pool_in_use at db_pool_size in the first breach's window."""
    if run.server is None:
        return []
    span = first.span
    in_use = [
        value for _, value in run.server.values("db_pool_in_use", {}, span.start_t, span.end_t)
    ]
    sizes = [value for _, value in run.server.values("db_pool_size", {}, span.start_t, span.end_t)]
    if not in_use or not sizes or max(sizes) <= 0:
        return []
    size = max(sizes)
    full = sum(value >= size for value in in_use)
    if not full:
        return []
    sentence = (
        f"The database pool was exhausted then: {max(in_use):,.0f} of {size:,.0f} connections "
        f"in use, at its size in {full} of {len(in_use)} samples over {_window(run, span)}."
    )
    figures: dict[str, Figure] = {
        "db_pool_in_use_max": max(in_use),
        "db_pool_size": size,
        "samples_at_size": full,
        "samples": len(in_use),
        "at_s": round(span.start_t - run.clock.started_t),
    }
    return [Finding(DiagnosisRule.DB_POOL_EXHAUSTED, sentence, figures, "server")]


def _slow_connect(run: JudgedRun, verdict: Verdict) -> list[Finding]:
    """Connections that took `SLOW_CONNECT_MS` or more to open over the run after warm-up,
    when there are at least `MIN_SLOW_CONNECTS` of them or `MIN_SLOW_CONNECT_SHARE` of the
    requests; with the share of the requests slower than their latency limit they explain."""
    span = scope_span(run.plan, run.clock, "run")
    if isinstance(span, NoSpan):
        return []
    connects: dict[str, LatencyHistogram] = {}
    slow_by_op: dict[str, int] = {}
    first_t: int | None = None
    for op in run.data.operations:
        for t, histogram in run.data.connect_seconds(op, span.start_t, span.end_t):
            connects.setdefault(op, LatencyHistogram()).add(histogram)
            slow = _at_least(histogram, SLOW_CONNECT_MS)
            if slow:
                slow_by_op[op] = slow_by_op.get(op, 0) + slow
                first_t = t if first_t is None else min(first_t, t)
    slow_total = sum(slow_by_op.values())
    requests = run.data.counts(ALL_OPERATIONS, span.start_t, span.end_t).total
    needed = max(MIN_SLOW_CONNECTS, math.ceil(MIN_SLOW_CONNECT_SHARE * requests))
    if first_t is None or slow_total < needed:
        return []
    every = LatencyHistogram()
    for histogram in connects.values():
        every.add(histogram)
    longest_ms, p99_ms = every.max_ms or 0.0, every.percentile_ms(99.0) or 0.0
    at_s = first_t - run.clock.started_t
    ranked = sorted(slow_by_op.items(), key=lambda item: (-item[1], item[0]))[:MAX_CITED]
    where = ", ".join(f"{op} ({count:,})" for op, count in ranked)
    figures: dict[str, Figure] = {
        "slow_connects": slow_total,
        "new_connections": every.count,
        "requests": requests,
        "connect_max_ms": longest_ms,
        "connect_p99_ms": p99_ms,
        "at_s": round(at_s),
        "operations": ", ".join(op for op, _ in ranked),
    }
    on_schedule = _on_syn_schedule(every)
    saturated = any(
        event.kind in GENERATOR_TROUBLE and span.start_t <= event.t < span.end_t
        for event in run.data.events
    )
    figures |= {
        "on_syn_schedule": on_schedule,
        "on_syn_schedule_share": round(on_schedule / slow_total, 4),
        "generator_saturated": int(saturated),
    }
    sentence = (
        f"Connections were slow to open: {slow_total:,} of the {every.count:,} new connections "
        f"took {SLOW_CONNECT_MS / 1000:g} s or more (the longest "
        f"{format_value(longest_ms, 'ms')}, connect p99 {format_value(p99_ms, 'ms')}), the "
        f"first {_clock(at_s)} into the run, most in {where}: "
        f"{_connect_cause(on_schedule, slow_total, saturated)}."
    )
    slower = _slower_than_limits(run, verdict, span, connects)
    if slower is not None:
        slow_requests, explained, bounded = slower
        share = explained / slow_requests
        figures |= {
            "slow_requests": slow_requests,
            "slow_requests_with_slow_connect": explained,
            "slow_connect_share_of_slow_requests": round(share, 4),
        }
        sentence += (
            f" {'At least ' if bounded else ''}{explained:,} of the {slow_requests:,} requests "
            f"slower than their latency limit ({format_share(share)}) spent "
            f"{SLOW_CONNECT_MS / 1000:g} s or more connecting, not in a handler."
        )
    return [Finding(DiagnosisRule.SLOW_CONNECT, sentence, figures, "connections")]


def _on_syn_schedule(histogram: LatencyHistogram) -> int:
    """Connects of `SLOW_CONNECT_MS` or more that completed just after a SYN retry time."""
    return sum(
        count
        for bucket_ms, count in histogram.buckets_ms()
        if bucket_ms >= SLOW_CONNECT_MS
        and any(
            retry_s * 1000 <= bucket_ms <= retry_s * 1000 * (1 + SYN_RETRY_SLACK) + 200
            for retry_s in SYN_RETRY_S
        )
    )


def _connect_cause(on_schedule: int, slow: int, generator_saturated: bool) -> str:
    """What the shape of the slow connects points at (see the module docstring)."""
    share = on_schedule / slow
    if share >= ON_SCHEDULE_SHARE:
        return (
            f"{format_share(share)} of them on the SYN retry schedule (1, 3, 7, 15, 31 s): "
            "SYNs the target dropped and the client sent again, a full listen backlog or a "
            "stalled accept loop"
        )
    spread = (
        f"only {format_share(share)} of them on the SYN retry schedule (1, 3, 7, 15, 31 s), "
        "the rest spread between: not dropped SYNs but a delay around the handshake"
    )
    if generator_saturated:
        return (
            f"{spread}, while the load generator was saturated: more likely the generator's "
            "own (a busy event loop, name resolution) than the target's"
        )
    return f"{spread}, the target's accept loop or the client's name resolution"


def _at_least(histogram: LatencyHistogram, value_ms: float) -> int:
    """Recorded values whose bucket reaches `value_ms` (its highest equivalent value)."""
    return sum(count for bucket_ms, count in histogram.buckets_ms() if bucket_ms >= value_ms)


def _slower_than_limits(
    run: JudgedRun, verdict: Verdict, span: Span, connects: dict[str, LatencyHistogram]
) -> tuple[int, int, bool] | None:
    """(requests slower than their latency limit, those of them that spent `SLOW_CONNECT_MS`
    or more connecting, whether that is a lower bound) over `span`; None when no latency
    objective in ms applies or no request was slower.

    A request's response time includes its connect, so one whose connect took longer than
    its limit was certainly slower than it; under a limit of less than a second that is every
    slow connect. A limit of a second or more leaves connects between 1 s and the limit
    undecided (the timeline keeps no per-request pairs): the count is then a lower bound.
    """
    limits: dict[str, tuple[float, bool]] = {}
    for check in verdict.checks:
        if check.metric != "latency" or check.unit != "ms" or check.judged_by != "run":
            continue
        if check.comparator not in ("<", "<="):
            continue
        for op in run.data.operations if check.operation == ALL_OPERATIONS else (check.operation,):
            known = limits.get(op)
            if known is None or check.limit < known[0]:
                limits[op] = (check.limit, check.latency_kind == "service")
    slow_requests = explained = 0
    bounded = False
    for op, (limit_ms, service) in limits.items():
        if op not in run.data.operations:
            continue
        latency = run.data.histogram(op, span.start_t, span.end_t, service=service)
        slow_requests += sum(count for ms, count in latency.buckets_ms() if ms > limit_ms)
        connect = connects.get(op)
        if connect is not None:
            explained += sum(
                count
                for ms, count in connect.buckets_ms()
                if ms >= SLOW_CONNECT_MS and ms > limit_ms
            )
        bounded = bounded or limit_ms >= SLOW_CONNECT_MS
    if not slow_requests:
        return None
    return slow_requests, min(explained, slow_requests), bounded


def _dropped_arrivals(run: JudgedRun) -> list[Finding]:
    """Open model: arrivals dropped because every journey slot was busy (load.jsonl)."""
    dropped = sum(sample.dropped_arrivals for sample in run.load)
    if run.plan.model != "open" or not dropped:
        return []
    planned = sum(sample.planned_arrivals or 0 for sample in run.load)
    by_target = sum(sample.dropped_by_target for sample in run.load)
    first_t = next(sample.t for sample in run.load if sample.dropped_arrivals)
    at_s = first_t - run.clock.started_t
    share = f" ({dropped / planned * 100:.1f} % of {planned:,} planned)" if planned else ""
    sentence = (
        f"{dropped:,} arrivals were dropped{share}, the first {_clock(at_s)} into the run: "
        f"{by_target:,} while every journey slot waited on the target, "
        f"{dropped - by_target:,} for the generator's own want of slots."
    )
    figures: dict[str, Figure] = {
        "dropped_arrivals": dropped,
        "planned_arrivals": planned,
        "dropped_by_target": by_target,
        "at_s": round(at_s),
    }
    return [Finding(DiagnosisRule.DROPPED_ARRIVALS, sentence, figures, "load")]


def _how(check: Check) -> str:
    """How a failed or warned check broke: latency, errors, throughput or resources. A
    latency check whose value met its limit failed on its failed requests: errors."""
    if check.metric == "latency" and (check.measured is None or _holds(check, check.measured)):
        return "errors"
    if check.metric in ("latency", "latency_drift"):
        return "latency"
    if check.metric in _ERRORS:
        return "errors"
    if check.metric in _THROUGHPUT:
        return "throughput"
    if check.metric in _RESOURCES:
        return "resources"
    return check.metric


def _operations(run: JudgedRun, verdict: Verdict, breaches: dict[str, Breach]) -> list[Finding]:
    """One sentence per operation (or component) with a failed or warned check, the one
    that broke first first; then how many more there are."""
    groups: dict[str, list[Check]] = {}
    for check in verdict.checks:
        if check.status in _BROKEN:
            groups.setdefault(check.operation, []).append(check)

    def first_t(checks: list[Check]) -> float:
        times = [breaches[c.id].span.start_t for c in checks if c.id in breaches]
        return min(times, default=float("inf"))

    ranked = sorted(groups.items(), key=lambda item: first_t(item[1]))
    findings = [
        _operation(run, operation, checks, breaches, first=index == 0 and len(ranked) > 1)
        for index, (operation, checks) in enumerate(ranked[:MAX_OPERATIONS])
    ]
    if len(ranked) > MAX_OPERATIONS:
        rest = [operation for operation, _ in ranked[MAX_OPERATIONS:]]
        last = findings[-1]
        more = f" {len(rest)} more failed or warned: {', '.join(rest)} (see the SLA checks)."
        findings[-1] = Finding(
            last.rule,
            last.sentence + more,
            {**last.figures, "more_operations": len(rest)},
            last.anchor,
        )
    return findings


def _operation(
    run: JudgedRun,
    operation: str,
    checks: list[Check],
    breaches: dict[str, Breach],
    *,
    first: bool,
) -> Finding:
    ways = list(dict.fromkeys(_how(check) for check in checks))
    cited = sorted(checks, key=lambda check: check.status != "fail")[:MAX_CITED]
    broken = [c.id for c in checks if c.id in breaches]
    at = ""
    figures: dict[str, Figure] = {"operation": operation, "checks": len(checks)}
    if broken:
        at_s = min(breaches[i].span.start_t for i in broken) - run.clock.started_t
        at = f" ({_clock(at_s)} into the run)"
        figures["at_s"] = round(at_s)
    details = "; ".join(
        f"{check.id} {format_measured(check)} against {format_limit(check)}" for check in cited
    )
    if len(checks) > len(cited):
        details += f" and {len(checks) - len(cited)} more"
    verb = "broke first" if first else "broke"
    if all(check.status == "warn" for check in checks):
        verb = "warned"
    name = "the target as a whole (*)" if operation == ALL_OPERATIONS else operation
    sentence = f"{name} {verb}{at} by {' and '.join(ways)}: {details}."
    requests_judged = any(way in ("latency", "errors") for way in ways)
    kinds = _error_kinds(run, operation) if requests_judged else None
    if kinds is not None:
        failed, total, shares = kinds
        figures |= {"failed": failed, "requests": total}
        figures |= {f"{outcome}_share": round(share, 4) for outcome, share in shares}
        spread = ", ".join(f"{share * 100:.0f} % {outcome}" for outcome, share in shares)
        sentence += f" {failed:,} of its {total:,} requests failed: {spread}"
        messages = _top_messages(run, operation)
        if messages:
            figures["top_errors"] = "; ".join(f"{m} ({n})" for m, n in messages)
            sentence += " (" + "; ".join(f"{m} × {n:,}" for m, n in messages) + ")"
        sentence += "."
    return Finding(DiagnosisRule.OPERATION_BROKE, sentence, figures, _ANCHOR.get(ways[0], "sla"))


def _top_messages(run: JudgedRun, operation: str) -> list[tuple[str, int]]:
    """The `MAX_MESSAGES` most frequent error messages of `operation`'s requests over the run
    after warm-up (the HTTP status or the exception: which 5xx, which timeout)."""
    span = scope_span(run.plan, run.clock, "run")
    if isinstance(span, NoSpan):
        return []
    return run.data.error_messages(operation, span.start_t, span.end_t)[:MAX_MESSAGES]


def _error_kinds(run: JudgedRun, operation: str) -> tuple[int, int, list[tuple[str, float]]] | None:
    """(failed, requests, [(outcome, share of failed)] largest first) of `operation` over
    the run after warm-up; None when none failed or it is no request operation."""
    if operation != ALL_OPERATIONS and operation not in run.data.all_operations:
        return None
    span = scope_span(run.plan, run.clock, "run")
    if isinstance(span, NoSpan):
        return None
    counts = run.data.counts(operation, span.start_t, span.end_t)
    if not counts.failed:
        return None
    by_outcome = {k: v for k, v in counts.as_dict().items() if k != "ok" and v}
    shares = sorted(by_outcome.items(), key=lambda item: -item[1])
    return counts.failed, counts.total, [(k, v / counts.failed) for k, v in shares]


def _too_close_to_call(verdict: Verdict) -> list[Finding]:
    marginal = [check for check in verdict.checks if check.status == "marginal"]
    if not marginal:
        return []
    cited = "; ".join(
        f"{check.id} {format_measured(check)} against {format_limit(check)}"
        for check in marginal[:MAX_CITED]
    )
    more = f" and {len(marginal) - MAX_CITED} more" if len(marginal) > MAX_CITED else ""
    sentence = (
        f"{len(marginal)} objective(s) too close to call (the {CONFIDENCE * 100:g} % interval "
        f"straddles the limit): {cited}{more}; a longer run narrows the interval."
    )
    figures: dict[str, Figure] = {"marginal": len(marginal)}
    return [Finding(DiagnosisRule.TOO_CLOSE_TO_CALL, sentence, figures, "sla")]


def _generator(run: JudgedRun, verdict: Verdict, first: Breach | None) -> list[Finding]:
    """The generator's saturated / behind_plan events and the checks made inconclusive."""
    events = [event for event in run.data.events if event.kind in GENERATOR_TROUBLE]
    inconclusive = verdict.counts["inconclusive"]
    if not events and not inconclusive:
        return []
    parts: list[str] = []
    figures: dict[str, Figure] = {}
    if events:
        event = events[0]
        at_s = event.t - run.clock.started_t
        what = "saturated" if event.kind == "generator_saturated" else "fell behind its plan"
        detail = f" ({event.detail})" if event.detail else ""
        parts.append(f"the load generator {what} {_clock(at_s)} into the run{detail}")
        figures |= {"event": event.kind, "at_s": round(at_s), "events": len(events)}
        if first is not None and event.t < first.span.end_t:
            parts.append("before the first breach ended: that breach may be the generator's own")
    busiest = [
        (percent, process) for sample in run.load for process, percent in sample.cpu_percent.items()
    ]
    if busiest and events:
        percent, process = max(busiest)
        parts.append(f"its busiest process peaked at {percent:.0f} % of a core ({process})")
        figures |= {"cpu_percent_max": percent, "process": process}
    if inconclusive:
        parts.append(
            f"{inconclusive} check(s) inconclusive: measured while it did not deliver the plan"
        )
        figures["inconclusive"] = inconclusive
    sentence = "The run cannot be fully trusted: " + "; ".join(parts) + "."
    return [Finding(DiagnosisRule.GENERATOR, sentence, figures, "metadata")]


def _run_incomplete(run: JudgedRun) -> list[Finding]:
    if run.run_status == "completed":
        return []
    ran_s = run.record.duration_s
    planned_s = run.plan.duration_s
    ran = (
        f": it ran {_clock(ran_s)} of its planned {_clock(planned_s)}" if ran_s is not None else ""
    )
    why = f" (ended: {run.record.exit_reason})" if run.record.exit_reason else ""
    if run.run_status == "degraded":
        sentence = f"The run was degraded: {run.record.workers_lost} load generator(s) lost{why}."
    else:
        sentence = f"The run did not complete ({run.run_status}){ran}{why}."
    figures: dict[str, Figure] = {"run_status": run.run_status, "planned_s": planned_s}
    if ran_s is not None:
        figures["ran_s"] = ran_s
    return [Finding(DiagnosisRule.RUN_INCOMPLETE, sentence, figures, "load")]


def _coverage(verdict: Verdict) -> list[Finding]:
    """In-scope objectives left unjudged; or no objective judged at all."""
    coverage = verdict.coverage
    uncovered = [
        check
        for check in verdict.checks
        if check.status in UNJUDGED_STATUSES and check.out_of_scope is None
    ]
    if uncovered:
        names = ", ".join(check.id for check in uncovered[:MAX_CITED])
        more = f" and {len(uncovered) - MAX_CITED} more" if len(uncovered) > MAX_CITED else ""
        sentence = (
            f"{len(uncovered)} of {coverage.in_scope} in-scope objective(s) were not judged: "
            f"{names}{more} ({uncovered[0].id}: {uncovered[0].message}); "
            "the verdict says nothing about them."
        )
        figures: dict[str, Figure] = {"unjudged": len(uncovered), "in_scope": coverage.in_scope}
        return [Finding(DiagnosisRule.COVERAGE, sentence, figures, "sla")]
    if coverage.judged == 0 and not verdict.counts["inconclusive"]:
        out = coverage.out_of_scope_total
        sentence = "No objective was judged on this run" + (
            f" ({out} out of scope by design)." if out else ": no objective applies to it."
        )
        return [
            Finding(DiagnosisRule.COVERAGE, sentence, {"judged": 0, "out_of_scope": out}, "sla")
        ]
    return []
