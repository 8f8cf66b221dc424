"""Feed names and the classes behind them, imported lazily.

A dotted path per name (as Django does for backends) keeps importing one feed from pulling
in every provider's dependencies.
"""

from __future__ import annotations

from importlib import import_module

from pulse.feeds.base import Feed

FEEDS: dict[str, str] = {
    "simulator": "pulse.feeds.simulator.SimulatorFeed",
    "replay": "pulse.feeds.replay.ReplayFeed",
    "eodhd": "pulse.feeds.eodhd.EodhdFeed",
    "binance": "pulse.feeds.binance.BinanceFeed",
    "coinbase": "pulse.feeds.coinbase.CoinbaseFeed",
}


def feed_class(name: str) -> type[Feed]:
    """Return the feed class registered as ``name``; raise KeyError listing valid names."""
    try:
        dotted = FEEDS[name]
    except KeyError:
        raise KeyError(f"unknown feed {name!r} (choose from {', '.join(FEEDS)})") from None
    module_name, _, attr = dotted.rpartition(".")
    return getattr(import_module(module_name), attr)
