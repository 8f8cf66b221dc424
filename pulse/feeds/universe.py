"""The built-in default universe: a small multi-asset set of symbols with plausible profiles.

The simulator needs a start price, a volatility and an activity level per symbol; the
dashboard needs something to show before anyone edits a watchlist. Symbols outside this
table still get a deterministic, plausible profile derived from a stable hash of the name,
so a watchlist can add ``stocks:ACME`` and see it tick at once.
"""

from __future__ import annotations

import math
import zlib
from typing import NamedTuple

from pulse.engine.tick import CRYPTO, FOREX, STOCKS
from pulse.feeds.base import SymbolRef


class Profile(NamedTuple):
    """How a symbol behaves in the synthetic market.

    ``annual_vol`` is the annualized diffusive volatility (a fraction, 0.3 = 30 %) and
    ``activity`` multiplies its asset class's base tick rate.
    """

    price: float
    annual_vol: float
    activity: float


# Start prices roughly as of mid-2024; volatilities are typical annualized levels.
PROFILES: dict[SymbolRef, Profile] = {
    SymbolRef(STOCKS, "AAPL"): Profile(225.0, 0.25, 1.5),
    SymbolRef(STOCKS, "MSFT"): Profile(415.0, 0.24, 1.2),
    SymbolRef(STOCKS, "NVDA"): Profile(120.0, 0.50, 2.0),
    SymbolRef(STOCKS, "TSLA"): Profile(240.0, 0.55, 1.8),
    SymbolRef(STOCKS, "AMZN"): Profile(185.0, 0.32, 1.2),
    SymbolRef(STOCKS, "GOOGL"): Profile(165.0, 0.30, 1.0),
    SymbolRef(STOCKS, "META"): Profile(520.0, 0.38, 1.0),
    SymbolRef(STOCKS, "SPY"): Profile(550.0, 0.15, 2.0),
    SymbolRef(FOREX, "EURUSD"): Profile(1.0850, 0.07, 1.5),
    SymbolRef(FOREX, "GBPUSD"): Profile(1.2750, 0.08, 1.2),
    SymbolRef(FOREX, "USDJPY"): Profile(150.20, 0.10, 1.3),
    SymbolRef(FOREX, "AUDUSD"): Profile(0.6650, 0.10, 0.9),
    SymbolRef(FOREX, "USDCHF"): Profile(0.8850, 0.08, 0.8),
    SymbolRef(CRYPTO, "BTC-USD"): Profile(61_500.0, 0.55, 2.0),
    SymbolRef(CRYPTO, "ETH-USD"): Profile(2_650.0, 0.65, 1.6),
    SymbolRef(CRYPTO, "SOL-USD"): Profile(150.0, 0.85, 1.0),
    SymbolRef(CRYPTO, "XRP-USD"): Profile(0.5500, 0.75, 0.8),
    SymbolRef(CRYPTO, "DOGE-USD"): Profile(0.1050, 0.90, 0.8),
}

DEFAULT_UNIVERSE: tuple[SymbolRef, ...] = tuple(PROFILES)

# Ranges for symbols not in the table: (low price, high price, typical annual vol).
_GENERATED_RANGES = {
    STOCKS: (10.0, 500.0, 0.35),
    FOREX: (0.5, 2.0, 0.09),
    CRYPTO: (0.01, 1_000.0, 0.80),
}


def _unit_hash(text: str) -> float:
    """Return a stable value in [0, 1) for ``text`` (``hash()`` is salted per process)."""
    return zlib.crc32(text.encode()) / 2**32


def profile(ref: SymbolRef) -> Profile:
    """Return the profile of ``ref``: the table entry, or one generated from its name.

    Generated prices are log-uniform in a per-class range (JPY crosses near 100-160), the
    volatility is the class's typical level times 0.8-1.3, and the activity is 1.
    """
    known = PROFILES.get(ref)
    if known is not None:
        return known
    low, high, vol = _GENERATED_RANGES.get(ref.asset, _GENERATED_RANGES[STOCKS])
    if ref.asset == FOREX and "JPY" in ref.symbol:
        low, high = 100.0, 160.0
    u = _unit_hash(str(ref))
    price = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    v = _unit_hash(ref.symbol[::-1])
    return Profile(float(f"{price:.4g}"), vol * (0.8 + 0.5 * v), 1.0)


def start_price(ref: SymbolRef) -> float:
    """Return a plausible start price for ``ref`` (see :func:`profile`)."""
    return profile(ref).price
