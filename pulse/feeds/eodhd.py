"""EODHD real-time websockets: US trades, US quotes, forex and crypto, one socket per endpoint.

Symbols are routed by asset class: stocks to ``us`` (and ``us-quote`` with ``quotes=True``),
forex to ``forex``, crypto to ``crypto``; an endpoint with no symbols opens no socket. On each
socket the server first says ``{"status_code":200,"message":"Authorized"}``; only then may the
client subscribe (earlier frames get a 500 and a dropped socket), with a comma-separated
string. Subscriptions do not survive a reconnect, so the shared loop re-sends them.

Status frames carry ``status_code`` or ``status``. 401 (bad key), 403 (too many connections)
and 422 (symbol limit, malformed request) are configuration errors: the endpoint goes FAILED
with the provider's message and waits ``fatal_retry_after`` seconds (or for a symbol change)
instead of retrying hot.

Forex frames have no ``p``: the price is the bid/ask mid. The ``ms`` market status of US
trades is kept per symbol and shown in :meth:`EodhdFeed.health`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection

from pulse.engine.tick import CRYPTO, FOREX, STOCKS, Tick
from pulse.feeds.base import Feed, FeedConfigError, SymbolRef, TickQueue
from pulse.feeds.connection import (
    ConnectionOptions,
    Endpoint,
    FatalError,
    RetryableError,
    check_options,
    combine_states,
    run_endpoints,
)
from pulse.feeds.frames import Rejected, decode_object, epoch_seconds, field_number
from pulse.feeds.market_hours import forex_open, us_stocks_open

PROVIDER = "eodhd"
DEFAULT_BASE_URL = "wss://ws.eodhistoricaldata.com/ws"
DEFAULT_SYMBOL_LIMIT = 50
US, US_QUOTE, FOREX_EP, CRYPTO_EP = "us", "us-quote", "forex", "crypto"
ENDPOINT_ASSET = {US: STOCKS, US_QUOTE: STOCKS, FOREX_EP: FOREX, CRYPTO_EP: CRYPTO}
CONFIG_STATUSES = {
    401: "unauthorized: check EODHD_API_KEY",
    403: "forbidden: too many connections for this key, or plan lacks real-time data",
    422: "rejected: symbol limit reached or malformed request",
}


@dataclass(frozen=True, slots=True)
class Status:
    """A status frame: ``{"status_code": 200, "message": "Authorized"}`` (or ``status``)."""

    code: int | None
    message: str

    @property
    def authorized(self) -> bool:
        """True for the greeting that allows subscribing."""
        return self.code == 200 and self.message.strip().lower() == "authorized"


class Data(NamedTuple):
    """Ticks parsed from a data frame, plus the US market status (``ms``) when present."""

    ticks: list[Tick]
    market_status: str | None = None


def parse_status(obj: dict[str, Any]) -> Status | None:
    """Return the :class:`Status` in a decoded frame, or None if it is a data frame."""
    if "s" in obj or ("status_code" not in obj and "status" not in obj):
        return None
    raw_code = obj.get("status_code", obj.get("status"))
    try:
        code = int(raw_code) if not isinstance(raw_code, bool) else None
    except (TypeError, ValueError):
        code = None
    return Status(code, str(obj.get("message", raw_code)))


def _symbol(obj: dict[str, Any]) -> str | Rejected:
    symbol = obj.get("s")
    if not isinstance(symbol, str) or not symbol.strip():
        return Rejected("missing_field", "s")
    return symbol.strip().upper()


def parse_us_trade(obj: dict[str, Any], recv_ts: float) -> Data | Rejected:
    """Parse a US trade.

    Raw sample::

        {"s": "AAPL",      # symbol
         "p": 227.31,      # trade price
         "v": 100,         # size (may be fractional)
         "c": [12, 37],    # trade condition codes
         "dp": false,      # dark pool
         "ms": "open",     # market status: open / closed / extended-hours
         "t": 1723118400123}  # epoch ms
    """
    tick = _trade(obj, recv_ts, STOCKS, "v")
    if isinstance(tick, Rejected):
        return tick
    status = obj.get("ms")
    return Data([tick], status if isinstance(status, str) else None)


def _bid_ask(obj: dict[str, Any], bid_key: str, ask_key: str) -> tuple[float, float] | Rejected:
    bid = field_number(obj, bid_key, positive=True)
    if isinstance(bid, Rejected):
        return bid
    ask = field_number(obj, ask_key, positive=True)
    if isinstance(ask, Rejected):
        return ask
    if ask < bid:
        return Rejected("crossed_quote", f"{bid_key}={bid!r} > {ask_key}={ask!r}")
    return bid, ask


def parse_us_quote(obj: dict[str, Any], recv_ts: float) -> Data | Rejected:
    """Parse a US quote; the tick price is the bid/ask mid.

    Raw sample::

        {"s": "AAPL", "ap": 227.32, "as": 3,   # ask price, ask size (lots)
         "bp": 227.30, "bs": 2,                 # bid price, bid size
         "t": 1723118400123}                    # epoch ms
    """
    return _parse_quote(obj, recv_ts, STOCKS, "bp", "ap")


def parse_forex(obj: dict[str, Any], recv_ts: float) -> Data | Rejected:
    """Parse a forex quote. There is NO ``p``: the price is the mid of ``a`` and ``b``.

    Raw sample::

        {"s": "EURUSD",
         "a": 1.09213,     # ask
         "b": 1.09211,     # bid
         "dc": "0.1467",   # daily change, percent (string)
         "dd": "0.0016",   # daily difference (string)
         "ppms": false,    # pre/post market session flag
         "t": 1723118400123}  # epoch ms
    """
    return _parse_quote(obj, recv_ts, FOREX, "b", "a")


def _parse_quote(obj: dict[str, Any], recv_ts: float, asset: str, bid_key: str,
                 ask_key: str) -> Data | Rejected:
    """Parse a bid/ask quote of ``asset`` into one tick priced at the mid."""
    symbol = _symbol(obj)
    if isinstance(symbol, Rejected):
        return symbol
    quote_ = _bid_ask(obj, bid_key, ask_key)
    if isinstance(quote_, Rejected):
        return quote_
    ts = epoch_seconds(obj.get("t"))
    if isinstance(ts, Rejected):
        return ts
    bid, ask = quote_
    return Data([Tick(symbol, asset, ts, (bid + ask) / 2.0, recv_ts=recv_ts, bid=bid, ask=ask,
                      provider=PROVIDER)])


def parse_crypto(obj: dict[str, Any], recv_ts: float) -> Data | Rejected:
    """Parse a crypto trade; ``p`` and ``q`` may arrive as strings.

    Raw sample::

        {"s": "BTC-USD",
         "p": "56843.99",  # price (string or number)
         "q": "0.0012",    # quantity (string or number)
         "dc": "1.25",     # daily change, percent
         "dd": "702.1",    # daily difference
         "t": 1723118400123}  # epoch ms
    """
    tick = _trade(obj, recv_ts, CRYPTO, "q")
    if isinstance(tick, Rejected):
        return tick
    return Data([tick])


def _trade(obj: dict[str, Any], recv_ts: float, asset: str, size_key: str) -> Tick | Rejected:
    """Parse the fields every EODHD trade has: ``s``, ``p``, the size and ``t``."""
    symbol = _symbol(obj)
    if isinstance(symbol, Rejected):
        return symbol
    price = field_number(obj, "p", positive=True)
    if isinstance(price, Rejected):
        return price
    size = field_number(obj, size_key) if obj.get(size_key) is not None else None
    if isinstance(size, Rejected):
        return size
    if size is not None and size < 0:
        return Rejected("negative_size", f"{size_key}={size!r}")
    ts = epoch_seconds(obj.get("t"))
    if isinstance(ts, Rejected):
        return ts
    return Tick(symbol, asset, ts, price, recv_ts=recv_ts, size=size, provider=PROVIDER)


PARSERS = {US: parse_us_trade, US_QUOTE: parse_us_quote, FOREX_EP: parse_forex,
           CRYPTO_EP: parse_crypto}


def parse_message(endpoint: str, raw: str | bytes, recv_ts: float) -> Data | Status | Rejected:
    """Parse one raw frame from ``endpoint`` (``us``, ``us-quote``, ``forex``, ``crypto``)."""
    obj = decode_object(raw)
    if isinstance(obj, Rejected):
        return obj
    status = parse_status(obj)
    if status is not None:
        return status
    return PARSERS[endpoint](obj, recv_ts)


# --------------------------------------------------------------------------- market hours


# --------------------------------------------------------------------------- the feed


def eodhd_symbol(ref: SymbolRef) -> str:
    """Return the symbol EODHD expects: ``AAPL``, ``EURUSD`` (no slash), ``BTC-USD``."""
    return ref.symbol.replace("/", "") if ref.asset == FOREX else ref.symbol


class EodhdEndpoint(Endpoint):
    """One EODHD socket (``us``, ``us-quote``, ``forex`` or ``crypto``)."""

    feed: EodhdFeed

    def wanted(self) -> frozenset[str]:
        return self.feed.routed(self.name)

    def url(self, wanted: frozenset[str]) -> str:
        return f"{self.feed.base_url.rstrip('/')}/{self.name}?api_token={quote(self.feed.api_key)}"

    def redact(self, text: str) -> str:
        return text.replace(quote(self.feed.api_key), "***").replace(self.feed.api_key, "***")

    async def handshake(self, ws: ClientConnection) -> None:
        """Wait for ``Authorized``; subscribing earlier gets the socket dropped."""
        async for raw in ws:
            obj = decode_object(raw)
            status = None if isinstance(obj, Rejected) else parse_status(obj)
            if status is None:
                continue  # data before the greeting is not expected; nothing to subscribe yet
            if status.authorized:
                return
            self._raise_for(status)
        raise RetryableError("closed before Authorized")

    def _raise_for(self, status: Status) -> None:
        if status.code in CONFIG_STATUSES:
            raise FatalError(f"EODHD {status.code} {CONFIG_STATUSES[status.code]} "
                             f"(server said: {status.message[:120]})")
        if status.code is not None and status.code >= 400:
            raise RetryableError(f"EODHD status {status.code}: {status.message[:120]}")

    def subscription_frames(self, add: frozenset[str], remove: frozenset[str]) -> list[str]:
        frames = []
        for action, symbols in (("unsubscribe", remove), ("subscribe", add)):
            if symbols:
                frames.append(json.dumps({"action": action, "symbols": ",".join(sorted(symbols))},
                                         separators=(",", ":")))
        return frames

    def silence_limit(self, now: float) -> float | None:
        if self.name in (US, US_QUOTE) and not us_stocks_open(now):
            return None  # quiet US stocks outside the session are normal
        if self.name == FOREX_EP and not forex_open(now):
            return None
        return self.opts.silence_timeout

    def on_frame(self, raw: str | bytes, recv_ts: float) -> None:
        parsed = parse_message(self.name, raw, recv_ts)
        if isinstance(parsed, Rejected):
            self.reject(parsed)
        elif isinstance(parsed, Status):
            self._raise_for(parsed)
        else:
            wanted = self.subscribed
            for tick in parsed.ticks:
                if tick.symbol not in wanted:
                    # Late frames of a just-unsubscribed symbol, or a symbol never asked for.
                    self.reject(Rejected("unexpected_symbol", tick.symbol))
                    continue
                tick.symbol = self.feed.canonical.get((self.name, tick.symbol), tick.symbol)
                if parsed.market_status is not None:
                    self.feed.market_status[tick.symbol] = parsed.market_status
                self.deliver(tick)


class EodhdFeed(Feed):
    """Live EODHD data for stocks, forex and crypto symbols.

    Options: ``api_key`` (default env ``EODHD_API_KEY``; required), ``base_url`` (default env
    ``EODHD_WS_URL`` or ``wss://ws.eodhistoricaldata.com/ws``), ``quotes`` (also stream
    ``us-quote`` for stocks, default False), ``symbol_limit`` (default 50, the per-key
    budget), plus the connection options of :class:`~pulse.feeds.connection.ConnectionOptions`
    (``silence_timeout`` applies only while the endpoint's market is open).
    """

    name = PROVIDER
    OPTIONS = frozenset({"api_key", "base_url", "quotes", "symbol_limit"})

    def __init__(self, symbols: Iterable[SymbolRef], queue: TickQueue, **options: Any) -> None:
        check_options(options, self.OPTIONS, PROVIDER)
        symbols = list(symbols)
        super().__init__(symbols, queue, **options)
        self.api_key: str = options.get("api_key") or os.environ.get("EODHD_API_KEY", "")
        if not self.api_key:
            raise FeedConfigError(
                "EODHD needs an API key: set EODHD_API_KEY (or pass api_key=...). "
                "The key 'demo' covers AAPL, MSFT, TSLA, EURUSD, ETH-USD and BTC-USD.")
        self.base_url: str = (options.get("base_url") or os.environ.get("EODHD_WS_URL")
                              or DEFAULT_BASE_URL)
        self.quotes = bool(options.get("quotes", False))
        self.symbol_limit = int(options.get("symbol_limit", DEFAULT_SYMBOL_LIMIT))
        if len(self._symbols) > self.symbol_limit:
            raise FeedConfigError(self._budget_message(len(self._symbols)))
        self.market_status: dict[str, str] = {}  # symbol -> last "ms" of a US trade
        self.canonical: dict[tuple[str, str], str] = {}  # (endpoint, EODHD symbol) -> ours
        self._routes: dict[str, frozenset[str]] = {}
        self._note = ""
        opts = ConnectionOptions.from_options(options, silence_timeout=120.0)
        names = [US, US_QUOTE, FOREX_EP, CRYPTO_EP] if self.quotes else [US, FOREX_EP,
                                                                          CRYPTO_EP]
        self.endpoints = [EodhdEndpoint(self, name, opts, on_state=self.refresh_state)
                          for name in names]
        self._route()

    def _budget_message(self, count: int) -> str:
        return (f"EODHD symbol budget exceeded: {count} symbols requested, the key allows "
                f"{self.symbol_limit} (set symbol_limit if your plan allows more)")

    def accepts(self, ref: SymbolRef) -> bool:
        return ref.asset in (STOCKS, FOREX, CRYPTO)

    def routed(self, endpoint: str) -> frozenset[str]:
        """Return the EODHD symbols ``endpoint`` should be subscribed to."""
        return self._routes.get(endpoint, frozenset())

    def _route(self) -> None:
        refs = sorted(self._symbols)
        self._note = ""
        if len(refs) > self.symbol_limit:
            # At runtime keep serving the first symbols rather than failing all of them.
            self._note = self._budget_message(len(refs)) + "; extra symbols ignored"
            refs = refs[: self.symbol_limit]
        routes: dict[str, set[str]] = {}
        canonical = {}
        for ref in refs:
            targets = {STOCKS: [US, US_QUOTE] if self.quotes else [US], FOREX: [FOREX_EP],
                       CRYPTO: [CRYPTO_EP]}.get(ref.asset, [])
            for endpoint in targets:
                routes.setdefault(endpoint, set()).add(eodhd_symbol(ref))
                canonical[(endpoint, eodhd_symbol(ref))] = ref.symbol
        self._routes = {name: frozenset(symbols) for name, symbols in routes.items()}
        self.canonical = canonical
        self.refresh_state()

    def on_symbols_changed(self) -> None:
        self._route()
        for endpoint in self.endpoints:
            endpoint.symbols_changed()

    def refresh_state(self) -> None:
        """Recompute the feed state from its endpoints' states."""
        combine_states(self, self.endpoints, self._note)

    def health(self, now: float | None = None) -> dict[str, Any]:
        data = super().health(now)
        data["market_status"] = dict(self.market_status)
        data["endpoints"] = {ep.name: str(ep.state) if ep.state else "idle"
                             for ep in self.endpoints}
        return data

    async def run(self) -> None:
        await run_endpoints(self, self.endpoints)
