"""Embedded mode: serve the ASGI app with daphne and run ingest on the same event loop.

The in-memory channel layer only reaches consumers in the same process, so one process must
both compute and serve. Daphne runs Twisted on an asyncio reactor; ingest is scheduled on that
loop from daphne's ``ready_callable`` and stops the server when it finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)


class ServeError(Exception):
    """The server could not start (for example, the port is taken)."""


def parse_hostport(text: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` (``[::1]:8000`` for IPv6); raise ValueError if malformed."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"port out of range in {text!r}")
    return host.strip("[]"), port


def endpoint(host: str, port: int) -> str:
    """Return the Twisted endpoint description for ``host:port`` (colons escaped for IPv6)."""
    return f"tcp:port={port}:interface={host.replace(':', chr(92) + ':')}"


def serve_embedded(host: str, port: int, main: Callable[[], Awaitable[Any]]) -> Any:
    """Serve pages and WebSockets on ``host:port`` while ``main()`` runs; return its result.

    When ``main`` returns (or raises), the server stops. Raises :class:`ServeError` if the
    server could not listen.
    """
    from daphne.server import Server  # first: installs Twisted's asyncio reactor

    from pulse.api.revocation import announce_going_away
    from pulse_site.asgi import application

    outcome: dict[str, Any] = {}

    async def runner() -> None:
        try:
            outcome["result"] = await main()
        except BaseException as exc:  # re-raised after the reactor stops
            outcome["error"] = exc
        finally:
            # Tell API clients the server is going away (4503) so they reconnect later.
            with contextlib.suppress(Exception):
                await announce_going_away()
            server.stop()

    def ready() -> None:
        outcome["task"] = asyncio.get_event_loop().create_task(runner())

    server = Server(
        application,
        endpoints=[endpoint(host, port)],
        signal_handlers=False,
        ready_callable=ready,
        verbosity=0,
    )
    server.run()
    if "error" in outcome:
        raise outcome["error"]
    if "result" not in outcome:
        task = outcome.get("task")
        if task is not None and not task.done():
            task.cancel()
        raise ServeError(f"could not listen on {host}:{port} (is the port already in use?)")
    return outcome["result"]
