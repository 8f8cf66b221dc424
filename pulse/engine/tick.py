"""The one normalized tick type every feed produces and the engine consumes.

It lives in the engine package because the engine is the innermost ring: feeds depend on it,
never the other way round. Plain class with ``__slots__`` rather than a dataclass so that
constructing millions of them in a replay stays cheap.
"""

from __future__ import annotations

from typing import Final

STOCKS: Final = "stocks"
FOREX: Final = "forex"
CRYPTO: Final = "crypto"
ASSET_CLASSES: Final = (STOCKS, FOREX, CRYPTO)


class Tick:
    """One price observation of one symbol.

    ``ts`` is the exchange (event) time and ``recv_ts`` the local receipt time, both in epoch
    seconds as floats. ``price`` is the trade price, or the bid/ask mid for quote-only feeds
    (forex). ``bid``, ``ask``, ``size`` and ``trade_id`` are ``None`` when the provider does
    not send them.
    """

    __slots__ = ("ask", "asset", "bid", "price", "provider", "recv_ts", "size", "symbol",
                 "trade_id", "ts")

    def __init__(
        self,
        symbol: str,
        asset: str,
        ts: float,
        price: float,
        *,
        recv_ts: float | None = None,
        bid: float | None = None,
        ask: float | None = None,
        size: float | None = None,
        provider: str = "",
        trade_id: int | str | None = None,
    ) -> None:
        self.symbol = symbol
        self.asset = asset
        self.ts = ts
        self.price = price
        self.recv_ts = ts if recv_ts is None else recv_ts
        self.bid = bid
        self.ask = ask
        self.size = size
        self.provider = provider
        self.trade_id = trade_id

    def __repr__(self) -> str:
        return (f"Tick({self.symbol!r}, {self.asset!r}, ts={self.ts!r}, price={self.price!r}, "
                f"provider={self.provider!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tick):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable value object
