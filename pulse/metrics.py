"""Prometheus metrics of ingest and web processes (exposed at /metrics).

Counters that the hot path would otherwise have to touch per tick are read from the
pipeline's own counters at scrape time instead; only cheap per-batch or per-connection
updates go through these objects.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CLIENTS = Gauge(
    "pulse_ws_clients", "WebSocket clients connected to this process."
)
WS_MESSAGES = Counter(
    "pulse_ws_messages_sent_total", "Messages sent to WebSocket clients, by type.", ["type"]
)
