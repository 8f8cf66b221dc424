"""What one load-test client saw, counted message by message.

Pure bookkeeping (no sockets, no clock): :meth:`ClientStats.count` gets each decoded message
with its receipt time, so tests can replay a stream of messages without a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Message types that carry a sequence number and a time to measure latency from.
MEASURED_TYPES = ("snapshot", "event", "health", "correlation")
RECENT_KEEP = 40  # latencies kept for the "behind" check: trimmed to the last 20 at 40


@dataclass
class ClientStats:
    """What one client saw: latencies by message type, counts, gaps, errors."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    recent: list[float] = field(default_factory=list)  # snapshot/event latencies, last window
    messages: int = 0
    gaps: int = 0
    missing: int = 0
    received: int = 0  # every message, acknowledged to the server for flow control
    events: dict[str, float] = field(default_factory=dict)  # event id -> event time
    server: dict[str, Any] = field(default_factory=dict)  # the socket's own counters
    connected: bool = False
    closed_code: int | None = None
    error: str = ""
    last_seq: int = 0

    def count(self, msg: dict[str, Any], now: float, measure_from: float) -> None:
        """Account for ``msg`` received at wall time ``now``.

        Sequence gaps are tracked from the first message; latencies and message counts only
        from ``measure_from`` on (connects and first full snapshots are not measured).
        ``received`` and the final ``stats`` reply are the caller's: they concern the socket.
        """
        kind = msg.get("type")
        if kind not in MEASURED_TYPES:
            return
        seq = msg.get("seq")
        # Full snapshots answering this client's own request repeat the current seq.
        if isinstance(seq, int) and not (kind == "snapshot" and msg.get("full")
                                          and seq <= self.last_seq):
            if self.last_seq and seq > self.last_seq + 1:
                self.gaps += 1
                self.missing += seq - self.last_seq - 1
            self.last_seq = max(self.last_seq, seq)
        if now < measure_from:
            return
        self.messages += 1
        ts = msg.get("ts") if kind == "snapshot" else (msg.get("event") or {}).get("ts")
        if kind == "event" and isinstance(ts, int | float):
            self.events[str(msg["event"].get("id"))] = ts
        if isinstance(ts, int | float):
            latency = now - ts
            self.latencies.setdefault(kind, []).append(latency)
            self.recent.append(latency)
            if len(self.recent) > RECENT_KEEP:
                del self.recent[:RECENT_KEEP // 2]
