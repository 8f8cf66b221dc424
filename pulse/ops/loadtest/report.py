"""The load test's figures: latency percentiles, losses, CPU per process, and their text form.

:func:`summarize` and :func:`process_rows` build the report (a dict, also written as JSON);
:func:`format_report` renders it as the lines the command prints (scripts and the docs quote
them, so the format is stable).
"""

from __future__ import annotations

import statistics
from typing import Any

from pulse.ops.loadtest.client_stats import ClientStats
from pulse.ops.loadtest.processes import ProcessSample

BEHIND_WINDOW = 20  # a client is behind if the median of its last 20 latencies is late


def percentile(values: list[float], q: float) -> float | None:
    """Return the ``q`` quantile (0..1) of ``values`` by nearest rank, or None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(value: float | None) -> float | None:
    """Return seconds ``value`` as milliseconds rounded to 0.1 (None stays None)."""
    return None if value is None else round(value * 1000, 1)


def summarize(stats: list[ClientStats], seconds: float, late: float, measure_from: float,
              measure_to: float) -> dict[str, Any]:
    """Return the aggregate figures of a run whose clients saw ``stats``.

    ``seconds`` is the measured duration, ``late`` the latency (s) that counts as late, and
    ``measure_from``/``measure_to`` the wall times of the measured window.
    """
    by_type: dict[str, list[float]] = {}
    for st in stats:
        for kind, values in st.latencies.items():
            by_type.setdefault(kind, []).extend(values)
    latency = {
        kind: {"count": len(v), "p50_ms": ms(percentile(v, 0.5)),
               "p95_ms": ms(percentile(v, 0.95)), "p99_ms": ms(percentile(v, 0.99)),
               "max_ms": ms(max(v))}
        for kind, v in sorted(by_type.items())
    }
    every = [x for v in by_type.values() for x in v]
    behind = sum(1 for st in stats
                 if st.recent and statistics.median(st.recent[-BEHIND_WINDOW:]) > late)
    messages = sum(st.messages for st in stats)
    errors = [st.error for st in stats if st.error]
    alive = [st for st in stats if st.connected and not st.error]
    # Events fired in the measured window must have reached every client, except those
    # still in flight when the clients stopped (younger than the slowest delivery seen).
    slowest = max(every, default=0.0)
    all_events = {i for st in alive for i, ts in st.events.items()
                  if measure_from + 0.5 <= ts <= measure_to - max(1.0, slowest)}
    missing_events = sum(len(all_events - st.events.keys()) for st in alive)
    return {
        "clients": len(stats),
        "connected": sum(st.connected for st in stats),
        "failed": len(errors),
        "first_errors": sorted(set(errors))[:5],
        "seconds": round(seconds, 1),
        "messages": messages,
        "messages_per_s": round(messages / seconds, 1) if seconds else 0.0,
        "latency": latency,
        "late": sum(1 for x in every if x > late),
        "late_threshold_ms": round(late * 1000),
        "events_distinct": len(all_events),
        "events_missing": missing_events,
        "snapshots_dropped_by_server": sum(st.server.get("dropped_snapshots", 0)
                                           for st in stats),
        "clients_without_stats": sum(1 for st in alive if not st.server),
        "seq_jumps": sum(st.gaps for st in stats),
        "clients_behind": behind,
    }


def process_rows(before: dict[int, ProcessSample | None],
                 after: dict[int, ProcessSample | None], wall: float) -> list[dict[str, Any]]:
    """Return CPU % over ``wall`` seconds and memory of each process sampled at both ends."""
    rows = []
    for pid, first in before.items():
        last = after.get(pid)
        if first is None or last is None:
            continue
        rows.append({"pid": pid, "cmd": last.name,
                     "cpu_pct": round(100 * (last.cpu - first.cpu) / wall, 1),
                     "rss_mb": round(last.rss / 2**20, 1),
                     "peak_rss_mb": round(last.hwm / 2**20, 1)})
    return rows


def format_report(r: dict[str, Any]) -> list[str]:
    """Return the report as the lines the command prints."""
    lines = [
        f"clients {r['connected']}/{r['clients']} connected, {r['failed']} failed"
        + (f" ({'; '.join(r['first_errors'])})" if r["first_errors"] else ""),
        f"measured {r['seconds']} s: {r['messages']} messages, {r['messages_per_s']} msg/s",
    ]
    for kind, lat in r["latency"].items():
        lines.append(f"  {kind:12} n={lat['count']:>8}  p50 {lat['p50_ms']} ms  p95 "
                     f"{lat['p95_ms']} ms  p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms")
    lines.append(
        f"late (> {r['late_threshold_ms']} ms): {r['late']}; clients behind: "
        f"{r['clients_behind']}; events {r['events_distinct']} distinct, "
        f"{r['events_missing']} missing across clients; snapshots dropped by server "
        f"flow control: {r['snapshots_dropped_by_server']} ({r['clients_without_stats']} "
        f"clients did not report); seq jumps: {r['seq_jumps']}")
    for p in r["processes"]:
        lines.append(f"  pid {p['pid']:>7}  cpu {p['cpu_pct']:>5}%  rss {p['rss_mb']} MB "
                     f"(peak {p['peak_rss_mb']})  {p['cmd']}")
    return lines
