"""Which symbols ingest follows: the ``--symbols`` option, else every watchlist's symbols.

With ``--shard i/n`` each ingest process keeps only its share of that list. A symbol names
one instrument (docs/instruments.md): ``--symbols`` may not give one symbol two classes, nor
a known symbol another class than its instrument's.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Iterable
from typing import NamedTuple

from channels.db import database_sync_to_async

from pulse.feeds.base import SymbolRef
from pulse.feeds.universe import DEFAULT_UNIVERSE
from pulse.models import AssetClassMismatch, Instrument


def parse_symbols(text: str) -> list[SymbolRef]:
    """Parse ``CLASS:SYMBOL,CLASS:SYMBOL``; raise ValueError with the first bad item.

    Repeats are dropped; one symbol with two classes is refused.
    """
    refs = [SymbolRef.parse(item) for item in text.split(",") if item.strip()]
    if not refs:
        raise ValueError("--symbols is empty")
    classes: dict[str, str] = {}
    for ref in refs:
        first = classes.setdefault(ref.symbol, ref.asset)
        if first != ref.asset:
            raise ValueError(AssetClassMismatch.given_twice(ref.symbol, first, ref.asset).message)
    return list(dict.fromkeys(refs))


def check_known_classes(refs: Iterable[SymbolRef]) -> None:
    """Raise ValueError naming the first of ``refs`` whose known instrument has another class.

    Symbols Market Pulse does not know yet are fine (ingest follows them as given).
    """
    wanted = {ref.symbol: ref.asset for ref in refs}
    known = Instrument.objects.filter(symbol__in=wanted).values_list("symbol", "asset_class")
    for symbol, asset in sorted(known):
        if wanted[symbol] != asset:
            raise ValueError(AssetClassMismatch(symbol, asset, wanted[symbol]).message)


def watchlist_symbols() -> list[SymbolRef]:
    """Return the union of all users' watchlist symbols, or the built-in universe if none."""
    rows = (
        Instrument.objects.filter(active=True, watchlists__isnull=False)
        .values_list("asset_class", "symbol")
        .distinct()
        .order_by("asset_class", "symbol")
    )
    refs = [SymbolRef(asset, symbol) for asset, symbol in rows]
    return refs or list(DEFAULT_UNIVERSE)


async_watchlist_symbols = database_sync_to_async(watchlist_symbols)


class Shard(NamedTuple):
    """One ingest process's share of the symbols: shard ``index`` of ``count`` (0-based)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Parse ``i/n`` (``0 <= i < n``); raise ValueError with a readable message."""
        index, sep, count = text.strip().partition("/")
        if not sep or not index.strip().isdigit() or not count.strip().isdigit():
            raise ValueError(f"expected i/n such as 0/2, got {text!r}")
        shard = cls(int(index), int(count))
        if shard.count < 1 or shard.index >= shard.count:
            raise ValueError(f"need 0 <= i < n, got {text!r}")
        return shard

    def owns(self, ref: SymbolRef) -> bool:
        """Return True if this shard follows ``ref``.

        CRC-32 of ``class:SYMBOL`` is stable across processes, machines and Python versions
        (unlike ``hash()``, which is salted per process), so every shard agrees on the split.
        """
        key = f"{ref.asset}:{ref.symbol}".encode()
        return zlib.crc32(key) % self.count == self.index

    def select(self, refs: Iterable[SymbolRef]) -> list[SymbolRef]:
        """Return the symbols of ``refs`` this shard follows, in their original order."""
        return [ref for ref in refs if self.owns(ref)]


def sharded(
    source: Callable[[], Awaitable[list[SymbolRef]]], shard: Shard | None
) -> Callable[[], Awaitable[list[SymbolRef]]]:
    """Return ``source`` restricted to ``shard`` (``source`` itself when not sharded)."""
    if shard is None or shard.count == 1:
        return source

    async def shard_source() -> list[SymbolRef]:
        return shard.select(await source())

    return shard_source
