"""Prometheus metrics of ingest and web processes, and a small HTTP exposition server.

Counters that the hot path would otherwise have to touch per tick are read from the
pipeline's own counters at scrape time instead (``pulse.ingest.collector``); only cheap
per-batch or per-connection updates go through these objects.

Web (ASGI) processes expose the default registry at ``/metrics`` (``pulse.ops.views``);
the ingest process serves its own registry on ``runpulse --metrics HOST:PORT`` with
:func:`start_metrics_server`, which runs on the ingest event loop so a scrape never reads
the pipeline's counters from another thread while they change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest
from prometheus_client.registry import CollectorRegistry

logger = logging.getLogger(__name__)

CLIENTS = Gauge(
    "pulse_ws_clients", "WebSocket clients connected to this process."
)
WS_MESSAGES = Counter(
    "pulse_ws_messages_sent_total", "Messages sent to WebSocket clients, by type.", ["type"]
)

_MAX_REQUEST_HEAD = 8192


def _response(status: str, body: bytes, content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def exposition(registry: CollectorRegistry, request_line: bytes) -> bytes:
    """Return the full HTTP response to one request line (``GET /metrics HTTP/1.1``)."""
    parts = request_line.split()
    if len(parts) < 2 or parts[0] not in (b"GET", b"HEAD"):
        return _response("405 Method Not Allowed", b"only GET\n")
    path = parts[1].split(b"?", 1)[0]
    if path not in (b"/metrics", b"/"):
        return _response("404 Not Found", b"see /metrics\n")
    body = b"" if parts[0] == b"HEAD" else generate_latest(registry)
    return _response("200 OK", body, CONTENT_TYPE_LATEST)


async def start_metrics_server(
    host: str, port: int, registry: CollectorRegistry
) -> asyncio.AbstractServer:
    """Serve ``registry`` in the Prometheus text format at ``http://host:port/metrics``.

    Deliberately minimal (one request per connection, no keep-alive): Prometheus scrapes a
    few times a minute, and staying on the running loop avoids a thread and its races.
    """

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            request_line = head[:_MAX_REQUEST_HEAD].split(b"\r\n", 1)[0]
            writer.write(exposition(registry, request_line))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            pass
        except Exception:  # a scrape must never take ingest down
            logger.exception("metrics request failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    return await asyncio.start_server(handle, host, port, limit=_MAX_REQUEST_HEAD)
