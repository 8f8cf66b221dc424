"""The load test's report: aggregate figures and the printed lines scripts read."""

from __future__ import annotations

from pulse.ops.loadtest.client_stats import ClientStats
from pulse.ops.loadtest.processes import ProcessSample
from pulse.ops.loadtest.report import format_report, ms, process_rows, summarize

START, END = 1000.0, 1010.0


def _client(latencies: list[float], events: dict[str, float], **kwargs) -> ClientStats:
    st = ClientStats(connected=True, **kwargs)
    st.latencies = {"snapshot": list(latencies)}
    st.recent = list(latencies)
    st.messages = len(latencies)
    st.events = dict(events)
    return st


def test_summary_aggregates_latency_losses_and_failures():
    # Three clients: two alive (one lacks event b), one that never connected.
    a = _client([0.01, 0.02, 0.6, 0.7, 0.8], {"a": 1002.0, "b": 1003.0, "late": 1009.5},
                server={"dropped_snapshots": 3}, gaps=2)
    b = _client([0.01] * 5, {"a": 1002.0, "early": 1000.2})
    down = ClientStats(error="OSError: refused")
    r = summarize([a, b, down], seconds=10.04, late=0.5, measure_from=START, measure_to=END)
    assert (r["clients"], r["connected"], r["failed"]) == (3, 2, 1)
    assert r["first_errors"] == ["OSError: refused"]
    assert (r["seconds"], r["messages"], r["messages_per_s"]) == (10.0, 10, 1.0)
    assert r["latency"] == {"snapshot": {"count": 10, "p50_ms": 10.0, "p95_ms": 800.0,
                                         "p99_ms": 800.0, "max_ms": 800.0}}
    assert (r["late"], r["late_threshold_ms"], r["clients_behind"]) == (3, 500, 1)
    # Only events inside [start + 0.5, end - max(1, slowest)] must reach every client.
    assert (r["events_distinct"], r["events_missing"]) == (2, 1)
    assert (r["snapshots_dropped_by_server"], r["clients_without_stats"]) == (3, 1)
    assert r["seq_jumps"] == 2


def test_an_empty_run_reports_zeros_not_errors():
    r = summarize([ClientStats()], seconds=0.0, late=0.5, measure_from=START, measure_to=END)
    assert r["latency"] == {} and r["messages_per_s"] == 0.0 and r["events_distinct"] == 0
    assert ms(None) is None and ms(0.12345) == 123.5


def test_process_rows_give_cpu_percent_over_the_window_and_skip_vanished_processes():
    before = {1: ProcessSample(1, "daphne", 10.0, 100 * 2**20, 120 * 2**20), 2: None,
              3: ProcessSample(3, "redis", 1.0, 2**20, 2**20)}
    after = {1: ProcessSample(1, "daphne -p 8001", 13.5, 110 * 2**20, 130 * 2**20), 2: None,
             3: None}
    assert process_rows(before, after, wall=10.0) == [
        {"pid": 1, "cmd": "daphne -p 8001", "cpu_pct": 35.0, "rss_mb": 110.0,
         "peak_rss_mb": 130.0}]


def test_the_printed_report_keeps_its_format():
    report = {
        "clients": 7, "connected": 6, "failed": 1, "first_errors": ["OSError: boom"],
        "seconds": 10.0, "messages": 1131, "messages_per_s": 113.1,
        "latency": {"event": {"count": 288, "p50_ms": 148.5, "p95_ms": 285.0, "p99_ms": 294.7,
                              "max_ms": 296.4}},
        "late": 430, "late_threshold_ms": 50, "events_distinct": 130, "events_missing": 485,
        "snapshots_dropped_by_server": 18, "clients_without_stats": 1, "seq_jumps": 557,
        "clients_behind": 7,
        "processes": [{"pid": 1, "cmd": "daphne a", "cpu_pct": 35.0, "rss_mb": 110.0,
                       "peak_rss_mb": 130.0}],
    }
    assert format_report(report) == [
        "clients 6/7 connected, 1 failed (OSError: boom)",
        "measured 10.0 s: 1131 messages, 113.1 msg/s",
        "  event        n=     288  p50 148.5 ms  p95 285.0 ms  p99 294.7 ms  max 296.4 ms",
        "late (> 50 ms): 430; clients behind: 7; events 130 distinct, 485 missing across "
        "clients; snapshots dropped by server flow control: 18 (1 clients did not report); "
        "seq jumps: 557",
        "  pid       1  cpu  35.0%  rss 110.0 MB (peak 130.0)  daphne a",
    ]
    no_errors = dict(report, failed=0, first_errors=[], processes=[])
    assert format_report(no_errors)[0] == "clients 6/7 connected, 0 failed"
