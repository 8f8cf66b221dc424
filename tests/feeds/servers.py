"""Local fake provider servers (EODHD, Binance, Coinbase) built on the ``websockets`` package.

Each serves on 127.0.0.1 with an OS-chosen port, speaks enough of its provider's protocol to
exercise a real client (handshake, subscribe/unsubscribe, errors as the real server sends
them), records what every connection sent, and lets a test push frames or drop a connection
abruptly. Use as an async context manager::

    async with FakeBinance() as server:
        feed = BinanceFeed(refs, queue, base_url=server.url)
        ...
        await server.wait_until(lambda: server.live)
        await server.send(binance_trade("BTCUSDT", 1, "60000.0"))
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from pulse.engine.tick import Tick
from pulse.feeds.base import Feed, TickQueue
from tests.waiting import until

# Feed options that make reconnects and timeouts fast enough for tests.
FAST = {"backoff_base": 0.01, "backoff_cap": 0.05, "backoff_stable": 0.5, "open_timeout": 2.0,
        "handshake_timeout": 2.0, "close_timeout": 0.5}


@contextlib.asynccontextmanager
async def running(feed: Feed) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``feed`` in a task; on exit stop it and require ``run()`` to return promptly."""
    task = asyncio.create_task(feed.run())
    try:
        yield task
    finally:
        feed.stop()
        await asyncio.wait_for(task, timeout=3.0)


def queued(queue: TickQueue) -> list[Tick]:
    """Return (without consuming) the ticks waiting in ``queue``."""
    return list(queue._items)

# --------------------------------------------------------------------------- frame builders


def binance_trade(symbol: str, trade_id: int, price: str = "60000.00", *, qty: str = "0.01",
                  ts_ms: int | None = None) -> str:
    """Return one combined-stream Binance trade frame."""
    ts_ms = int(time.time() * 1000) if ts_ms is None else ts_ms
    data = {"e": "trade", "E": ts_ms + 1, "s": symbol, "t": trade_id, "p": price, "q": qty,
            "T": ts_ms, "m": True, "M": True}
    return json.dumps({"stream": f"{symbol.lower()}@trade", "data": data})


def coinbase_ticker(product: str, sequence: int, trade_id: int, price: str = "60000.00", *,
                    time_iso: str = "2024-08-08T12:00:00.250000Z") -> str:
    """Return one Coinbase ``ticker`` frame."""
    return json.dumps({
        "type": "ticker", "sequence": sequence, "product_id": product, "price": price,
        "open_24h": "59000", "volume_24h": "1000", "low_24h": "58000", "high_24h": "61000",
        "best_bid": str(float(price) - 0.01), "best_bid_size": "0.5",
        "best_ask": str(float(price) + 0.01), "best_ask_size": "0.7", "side": "buy",
        "time": time_iso, "trade_id": trade_id, "last_size": "0.0042",
    })


def eodhd_us_trade(symbol: str, price: float = 190.5, *, ms: str = "open",
                   t: int = 1723118400123) -> str:
    """Return one EODHD ``us`` trade frame."""
    return json.dumps({"s": symbol, "p": price, "v": 100, "c": [12, 37], "dp": False, "ms": ms,
                       "t": t})


# --------------------------------------------------------------------------- the base server


class Conn:
    """One client connection as the fake server saw it."""

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        url = urlsplit(ws.request.path if ws.request else "/")
        self.path = url.path
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.received: list[Any] = []  # decoded JSON (or the raw text if not JSON)
        self.subscribed: set[str] = set()
        self.open = True
        self.authorized = False  # EODHD: set once "Authorized" was sent
        self.task: asyncio.Task[None] | None = None  # a per-connection timer, if any

    def sent_actions(self, key: str) -> list[Any]:
        """Return the values of ``key`` in every JSON object frame the client sent."""
        return [m.get(key) for m in self.received if isinstance(m, dict) and key in m]


class FakeServer:
    """A websocket server on 127.0.0.1:0 recording every connection and frame."""

    def __init__(self) -> None:
        self.connections: list[Conn] = []
        self._server: Server | None = None
        self.port = 0
        self.http_status: int | None = None  # set to refuse upgrades with this HTTP status
        self.refused = 0

    async def __aenter__(self) -> FakeServer:
        self._server = await serve(self._handle, "127.0.0.1", 0, max_size=None,
                                   process_request=self._process_request)
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        """Return the ws:// URL of this server (no path)."""
        return f"ws://127.0.0.1:{self.port}"

    @property
    def live(self) -> list[Conn]:
        """Return the connections still open."""
        return [c for c in self.connections if c.open]

    def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        if self.http_status is None:
            return None
        self.refused += 1
        return ws.respond(self.http_status, "refused by the fake server\n")

    async def _handle(self, ws: ServerConnection) -> None:
        conn = Conn(ws)
        self.connections.append(conn)
        try:
            if await self.on_connect(conn):
                async for message in ws:
                    try:
                        decoded = json.loads(message)
                    except ValueError:
                        decoded = message
                    conn.received.append(decoded)
                    await self.on_message(conn, decoded)
        except ConnectionClosed:
            pass
        finally:
            conn.open = False

    async def on_connect(self, conn: Conn) -> bool:
        """Greet a new connection; return False to stop serving it."""
        return True

    async def on_message(self, conn: Conn, message: Any) -> None:
        """React to one client frame (already JSON-decoded when possible)."""

    async def send(self, frame: str | bytes, conn: Conn | None = None) -> None:
        """Send ``frame`` to ``conn`` (default: the newest open connection)."""
        conn = conn or self.live[-1]
        await conn.ws.send(frame)

    def drop(self, conn: Conn | None = None) -> None:
        """Abort ``conn`` (default: every open one) without a closing handshake."""
        for c in [conn] if conn else self.live:
            c.open = False
            c.ws.transport.abort()

    async def wait_until(self, predicate: Callable[[], object], within: float = 5.0) -> None:
        """Poll ``predicate`` until true; fail the test with AssertionError after ``within`` s."""
        await until(predicate, within, what="the fake server's condition")


# --------------------------------------------------------------------------- providers


class FakeEodhd(FakeServer):
    """EODHD real-time: ``/ws/<endpoint>?api_token=KEY``, Authorized first, then subscribe.

    A bad token gets ``{"status_code":401,...}`` and a close. Subscribing before Authorized
    gets a 500 and a dropped socket (as the real server does) and is recorded in ``early``.
    More than ``symbol_limit`` symbols on one key gets a 422.
    """

    def __init__(self, keys: frozenset[str] = frozenset({"good-key"}), *,
                 authorize_delay: float = 0.0, symbol_limit: int = 50) -> None:
        super().__init__()
        self.keys = keys
        self.authorize_delay = authorize_delay
        self.symbol_limit = symbol_limit
        self.early: list[Any] = []  # frames clients sent before being authorized
        self.auth_failures = 0

    def endpoint_conns(self, endpoint: str) -> list[Conn]:
        """Return the connections (open or not) made to ``/ws/<endpoint>``."""
        return [c for c in self.connections if c.path == f"/ws/{endpoint}"]

    def live_on(self, endpoint: str) -> Conn | None:
        """Return the newest open connection to ``endpoint``, if any."""
        conns = [c for c in self.endpoint_conns(endpoint) if c.open]
        return conns[-1] if conns else None

    async def on_connect(self, conn: Conn) -> bool:
        if conn.query.get("api_token") not in self.keys:
            self.auth_failures += 1
            await conn.ws.send(json.dumps({"status_code": 401, "message": "Unauthorized"}))
            await conn.ws.close()
            return False

        async def authorize() -> None:
            await asyncio.sleep(self.authorize_delay)  # the behaviour: a slow Authorized
            if conn.open:
                conn.authorized = True
                await conn.ws.send(json.dumps({"status_code": 200, "message": "Authorized"}))

        conn.task = asyncio.create_task(authorize())
        return True

    async def on_message(self, conn: Conn, message: Any) -> None:
        if not conn.authorized:
            self.early.append(message)
            await conn.ws.send(json.dumps({"status_code": 500, "message": "Not authorized yet"}))
            self.drop(conn)
            return
        if not isinstance(message, dict) or not isinstance(message.get("symbols"), str):
            await conn.ws.send(json.dumps({"status_code": 422, "message": "Malformed request"}))
            return
        symbols = {s for s in message["symbols"].split(",") if s}
        if message.get("action") == "subscribe":
            conn.subscribed |= symbols
            total = sum(len(c.subscribed) for c in self.live)
            if total > self.symbol_limit:
                await conn.ws.send(json.dumps({"status": 422, "message": "Symbol limit reached"}))
        elif message.get("action") == "unsubscribe":
            conn.subscribed -= symbols


class FakeBinance(FakeServer):
    """Binance combined streams: ``/stream?streams=a@trade/b@trade`` plus method frames."""

    async def on_connect(self, conn: Conn) -> bool:
        streams = conn.query.get("streams", "")
        conn.subscribed = {s for s in streams.split("/") if s}
        return True

    async def on_message(self, conn: Conn, message: Any) -> None:
        if not isinstance(message, dict) or "id" not in message:
            await conn.ws.send(json.dumps({"error": {"code": 2, "msg": "Invalid request"},
                                           "id": None}))
            return
        method, params = message.get("method"), message.get("params") or []
        if method == "SUBSCRIBE":
            conn.subscribed |= set(params)
        elif method == "UNSUBSCRIBE":
            conn.subscribed -= set(params)
        elif method == "LIST_SUBSCRIPTIONS":
            await conn.ws.send(json.dumps({"result": sorted(conn.subscribed),
                                           "id": message["id"]}))
            return
        else:
            await conn.ws.send(json.dumps({"error": {"code": 1, "msg": "Unknown method"},
                                           "id": message["id"]}))
            return
        await conn.ws.send(json.dumps({"result": None, "id": message["id"]}))


class FakeCoinbase(FakeServer):
    """Coinbase Exchange feed: a subscribe must arrive within ``subscribe_timeout`` seconds."""

    def __init__(self, subscribe_timeout: float = 5.0) -> None:
        super().__init__()
        self.subscribe_timeout = subscribe_timeout
        self.late_closes = 0

    async def on_connect(self, conn: Conn) -> bool:
        async def deadline() -> None:
            await asyncio.sleep(self.subscribe_timeout)  # the behaviour: the server's deadline
            if conn.open and not conn.received:
                self.late_closes += 1
                await conn.ws.send(json.dumps({"type": "error", "message": "Failed to subscribe",
                                               "reason": "no subscribe within 5s"}))
                await conn.ws.close()

        conn.task = asyncio.create_task(deadline())
        return True

    async def on_message(self, conn: Conn, message: Any) -> None:
        if not isinstance(message, dict) or message.get("type") not in ("subscribe",
                                                                         "unsubscribe"):
            await conn.ws.send(json.dumps({"type": "error", "message": "Failed to subscribe",
                                           "reason": "type is not a valid message type"}))
            return
        products = set(message.get("product_ids") or [])
        if message["type"] == "subscribe":
            conn.subscribed |= products
        else:
            conn.subscribed -= products
        channels = [{"name": name, "product_ids": sorted(conn.subscribed)}
                    for name in message.get("channels") or []]
        await conn.ws.send(json.dumps({"type": "subscriptions", "channels": channels}))
