"""A small streaming API client: connect with a token, subscribe, print live messages.

Usage::

    python -m pulse.api.client --url ws://127.0.0.1:8000/ws/api/ --token mp_xxxxxxxx_... \\
        --watchlist Tech [--symbols AAPL,BTC-USD] [--snapshots]

``--watchlist`` takes an id or a name (names are looked up over the REST API, on the
same host); ``--symbols`` adds symbols by name. The token may also come from the
``PULSE_TOKEN`` environment variable (kept out of the process list). Each ``event`` (and,
with ``--snapshots``, each ``snapshot``) is printed to stdout as one JSON object per line;
connection status goes to stderr.

The client reconnects after network errors, server restarts and ``4503``/``4408`` closes
with capped exponential backoff and full jitter (reset once a connection has stayed up for
a while) and re-sends its subscriptions on every connection. It acknowledges what it has
processed about once a second (the server's flow control). ``4401`` (bad or revoked token)
and ``4403`` (forbidden symbol or watchlist) are fatal: retrying cannot fix them.

Used as a library::

    client = StreamClient(url, token, symbols=["AAPL"], watchlists=[3])
    await client.run(on_message=print)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from pulse.feeds.backoff import Backoff

logger = logging.getLogger("pulse.api.client")

FATAL_CLOSE_CODES = {4401: "unauthenticated (bad, expired or revoked token)",
                     4403: "forbidden symbol or watchlist"}
ACK_EVERY = 1.0  # seconds between acknowledgements
STABLE_AFTER = 30.0  # seconds connected before the backoff resets


class FatalClose(Exception):
    """The server closed with a code that retrying cannot fix (4401, 4403)."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"closed with {code}: {detail}")
        self.code = code


class ConnectionLost(Exception):
    """The connection ended in a way worth retrying (restart, network, 4503, 4408)."""


class StreamClient:
    """Keep one subscribed connection to ``/ws/api/`` alive and hand messages to a callback."""

    def __init__(self, url: str, token: str, *, symbols: list[str] | None = None,
                 watchlists: list[int] | None = None, base_delay: float = 0.5,
                 max_delay: float = 30.0) -> None:
        self.url = url
        self.token = token
        self.symbols = list(symbols or [])
        self.watchlists = list(watchlists or [])
        self.base_delay, self.max_delay = base_delay, max_delay
        self.connections = 0  # successful connections so far (1 + reconnects)
        self.received = 0  # messages received on the current connection
        self.stopping = False
        self._backoff = self.backoff()

    def backoff(self, **kwargs: Any) -> Backoff:
        """Return a fresh reconnect :class:`Backoff`: full jitter from 0, reset when stable."""
        return Backoff(self.base_delay, self.max_delay, floor=0.0, stable_after=STABLE_AFTER,
                       **kwargs)

    def subscriptions(self) -> list[dict[str, Any]]:
        """Return the subscribe requests sent on every (re)connection."""
        requests: list[dict[str, Any]] = []
        if self.symbols:
            requests.append({"action": "subscribe", "symbols": self.symbols})
        requests.extend({"action": "subscribe", "watchlist": w} for w in self.watchlists)
        return requests

    async def run(self, on_message: Callable[[dict[str, Any]], Any]) -> None:
        """Connect, subscribe and relay messages until stopped or a fatal close."""
        while not self.stopping:
            try:
                await self._session(on_message)
            except FatalClose:
                raise
            except (OSError, ConnectionClosed, ConnectionLost, InvalidHandshake,
                    TimeoutError) as exc:
                if isinstance(exc, InvalidStatus) and exc.response.status_code in (401, 403):
                    raise FatalClose(exc.response.status_code, "refused") from exc
                logger.warning("connection lost: %s", exc)
            if self.stopping:
                return
            delay = self._backoff.next_delay()
            logger.info("reconnecting in %.1fs", delay)
            await asyncio.sleep(delay)

    async def _session(self, on_message: Callable[[dict[str, Any]], Any]) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with websockets.connect(self.url, additional_headers=headers,
                                      max_size=2**24) as socket:
            self.connections += 1
            self.received = 0
            self._backoff.note_connected()
            logger.info("connected to %s (connection %d)", self.url, self.connections)
            for request in self.subscriptions():
                await socket.send(json.dumps(request))
            acker = asyncio.create_task(self._ack_loop(socket))
            try:
                async for text in socket:
                    self.received += 1
                    message = json.loads(text)
                    if message.get("type") == "error":
                        logger.warning("server error: %s %s", message.get("error"),
                                       message.get("detail"))
                    result = on_message(message)
                    if asyncio.iscoroutine(result):
                        await result
            except ConnectionClosed:
                pass  # the close code decides below whether to retry
            finally:
                acker.cancel()
            code = socket.close_code
            if code in FATAL_CLOSE_CODES:
                raise FatalClose(code, FATAL_CLOSE_CODES[code])
            raise ConnectionLost(f"closed with {code} {socket.close_reason or ''}".strip())

    async def _ack_loop(self, socket: Any) -> None:
        acked = 0
        while True:
            await asyncio.sleep(ACK_EVERY)
            if self.received != acked:
                acked = self.received
                await socket.send(json.dumps({"action": "ack", "received": acked}))

    def stop(self) -> None:
        """Stop after the current connection ends."""
        self.stopping = True


def resolve_watchlist(ws_url: str, token: str, value: str) -> int:
    """Return the id of watchlist ``value`` (an id, or a name looked up over REST)."""
    if value.isdigit():
        return int(value)
    parts = urllib.parse.urlsplit(ws_url)
    scheme = "https" if parts.scheme == "wss" else "http"
    url = urllib.parse.urlunsplit((scheme, parts.netloc, "/api/v1/watchlists", "", ""))
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        lists = json.load(response)["results"]
    for item in lists:
        if item["name"].lower() == value.lower():
            return item["id"]
    raise SystemExit(f"no watchlist named {value!r} (yours: "
                     f"{', '.join(i['name'] for i in lists) or 'none'})")


def main(argv: list[str] | None = None) -> int:
    """Run the command line client; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m pulse.api.client", description=__doc__
                                     .split("\n\n")[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8000/ws/api/",
                        help="the streaming API URL")
    parser.add_argument("--token", default=os.environ.get("PULSE_TOKEN"),
                        help="API token (default: $PULSE_TOKEN)")
    parser.add_argument("--watchlist", action="append", default=[],
                        help="watchlist id or name (repeatable)")
    parser.add_argument("--symbols", default="", help="comma-separated symbols")
    parser.add_argument("--snapshots", action="store_true", help="also print snapshots")
    parser.add_argument("--verbose", action="store_true", help="print every message")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token or PULSE_TOKEN is required")
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()]
    if not symbols and not args.watchlist:
        parser.error("give --watchlist and/or --symbols")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    watchlists = [resolve_watchlist(args.url, args.token, w) for w in args.watchlist]
    client = StreamClient(args.url, args.token, symbols=symbols, watchlists=watchlists)
    shown = {"event"} | ({"snapshot"} if args.snapshots else set())

    def show(message: dict[str, Any]) -> None:
        if args.verbose or message.get("type") in shown:
            print(json.dumps(message, separators=(",", ":")), flush=True)
        elif message.get("type") in ("subscribed", "hello"):
            logger.info("%s", json.dumps(message))

    try:
        asyncio.run(client.run(show))
    except FatalClose as exc:
        logger.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
