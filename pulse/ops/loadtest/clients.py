"""The load run: N WebSocket clients in one asyncio process, and the measured window.

Each client connects with the run's session cookie, acknowledges what it read once a second
(as the dashboard page does, for the server's flow control), and at the end asks the server
for its socket's counters. Connects are spread over the ramp; measuring starts a second
after the ramp, once every client is past its first full snapshots.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any
from urllib.parse import urlsplit

import orjson

from pulse.ops.loadtest.client_stats import ClientStats
from pulse.ops.loadtest.processes import ProcessSample, sample_process
from pulse.ops.loadtest.report import process_rows, summarize


def origin_of(url: str) -> str:
    """Return the ``Origin`` a browser on the same host would send for ``url``."""
    parts = urlsplit(url)
    return ("https://" if parts.scheme == "wss" else "http://") + parts.netloc


class LoadRun:
    """Run N clients against one URL for a while and collect :class:`ClientStats`."""

    def __init__(self, urls: list[str], keys: list[str], clients: int,
                 duration: float, ramp: float, late: float) -> None:
        self.urls, self.keys = urls, keys
        self.clients, self.duration, self.ramp, self.late = clients, duration, ramp, late
        self.stats = [ClientStats() for _ in range(clients)]
        self.measure_from = 0.0
        self.measure_to = 0.0
        self.pids: list[int] = []
        self.cpu_before: dict[int, ProcessSample | None] = {}
        self.cpu_after: dict[int, ProcessSample | None] = {}

    async def run(self) -> float:
        """Connect every client (spread over ``ramp`` seconds), measure, disconnect."""
        stop = asyncio.Event()
        tasks = [asyncio.create_task(self._client(i, stop)) for i in range(self.clients)]
        await asyncio.sleep(self.ramp + 1.0)  # connected and past the first full snapshots
        self.measure_from = time.time()
        self.cpu_before = {pid: sample_process(pid) for pid in self.pids}
        await asyncio.sleep(self.duration)
        self.measure_to = time.time()
        self.cpu_after = {pid: sample_process(pid) for pid in self.pids}
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return time.time() - self.measure_from

    def report(self, seconds: float) -> dict[str, Any]:
        """Return the run's figures, with CPU and memory of ``pids`` over the window."""
        report = summarize(self.stats, seconds, self.late, self.measure_from, self.measure_to)
        report["processes"] = process_rows(self.cpu_before, self.cpu_after,
                                           self.measure_to - self.measure_from)
        return report

    async def _client(self, i: int, stop: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        st = self.stats[i]
        await asyncio.sleep(self.ramp * i / max(1, self.clients))
        key = self.keys[i % len(self.keys)]
        url = self.urls[i % len(self.urls)]
        try:
            async with connect(url, origin=origin_of(url), compression=None,
                               additional_headers={"Cookie": f"sessionid={key}"},
                               open_timeout=30, ping_interval=None, max_queue=None,
                               max_size=2**24) as ws:
                st.connected = True
                reader = asyncio.create_task(self._read(ws, st))
                acked = 0
                while not stop.is_set() and not reader.done():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0)
                    if st.received != acked and not reader.done():
                        acked = st.received
                        await ws.send(orjson.dumps({"action": "ack", "received": acked}).decode())
                if not reader.done():
                    await ws.send('{"action":"stats"}')
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(reader), timeout=5)
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
                st.closed_code = ws.close_code
        except Exception as exc:
            st.error = f"{type(exc).__name__}: {exc}"[:200]

    async def _read(self, ws: Any, st: ClientStats) -> None:
        async for raw in ws:
            now = time.time()
            st.received += 1
            msg = orjson.loads(raw)
            if msg.get("type") == "stats":  # the reply to the final request: done
                st.server = msg
                return
            st.count(msg, now, self.measure_from)
