"""A deterministic synthetic multi-asset market: the pure model behind the simulator and gen_ticks.

Each symbol ticks at Poisson times (asynchronous across symbols) with a per-class base rate
times the symbol's activity. Log prices follow a one-factor model per asset class plus a weak
global factor, so symbols of one class move together::

    dlog P_i = sigma_i * (sqrt(g) dG + s_i sqrt(rho_c - g) dF_c + sqrt(1 - rho_c) dW_i) + jumps

where ``G``, ``F_c`` and ``W_i`` are independent Brownian motions in seconds, ``g`` the global
correlation, ``rho_c`` the within-class correlation and ``s_i`` a sign (forex pairs quoted as
``USDxxx`` load negatively on the dollar factor, as in real markets). Factors are sampled
lazily at tick times, which gives exact Brownian increments for asynchronous observations.

Occasional jumps (idiosyncratic per symbol and class-wide) of 4-8 one-minute sigmas make
stress events appear in a demo within a few minutes; :meth:`SyntheticMarket.shock` scripts
one at a chosen time. ``annual_vol`` in a profile is the diffusive volatility: with default
jump intensity the realized volatility over long windows is about 1.5 times higher.

US stocks follow NYSE hours when ``stock_hours="nyse"``: regular 09:30-16:00
America/New_York at the full rate, extended hours (04:00-09:30, 16:00-20:00) at a tenth,
closed at night and at weekends (exchange holidays are not modelled). Every random draw
comes from one seeded :class:`random.Random`, so a seed and a start time fix the output.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from pulse.engine.tick import CRYPTO, FOREX, STOCKS, Tick
from pulse.feeds.base import SymbolRef
from pulse.feeds.market_hours import CLOSED, EXTENDED, REGULAR, us_stock_session
from pulse.feeds.universe import profile

STOCK_HOURS: Final = ("nyse", "always")


@dataclass(frozen=True)
class ClassModel:
    """Parameters shared by every symbol of one asset class."""

    rate: float  # ticks per second per symbol at activity 1 (regular hours for stocks)
    within_corr: float  # correlation of returns of two same-sign symbols of the class
    seconds_per_year: float  # annualization: the class's trading seconds per year
    half_spread: float  # relative half spread of quotes; 0 for trade-only classes


CLASS_MODELS: Final[dict[str, ClassModel]] = {
    CRYPTO: ClassModel(rate=2.5, within_corr=0.70, seconds_per_year=31_536_000.0,
                       half_spread=0.0),
    FOREX: ClassModel(rate=1.2, within_corr=0.50, seconds_per_year=22_464_000.0,
                      half_spread=0.4e-4),
    STOCKS: ClassModel(rate=1.0, within_corr=0.45, seconds_per_year=5_896_800.0,
                       half_spread=0.0),
}
GLOBAL_CORR: Final = 0.10  # correlation across classes, through the global factor
EXTENDED_HOURS_RATE: Final = 0.10  # stock tick rate outside regular hours, relative
IDIO_JUMP_EVERY: Final = 3600.0  # mean seconds between one symbol's own jumps
CLASS_JUMP_EVERY: Final = 3600.0  # mean seconds between jumps of a whole class
JUMP_SIGMAS: Final = (4.0, 8.0)  # jump size range in one-minute diffusive sigmas
# The global factor is sampled at most this often (seconds): it only carries the weak
# cross-class correlation, and skipping a draw on most ticks is a third of the model's cost.
GLOBAL_STEP: Final = 0.25
# Variance accrues over at most this much silence: a stock reopening after a closed night
# gaps by a plausible amount instead of by a full calendar-time diffusion.
MAX_SILENCE: Final = 300.0

_SESSION_RATE: Final = {REGULAR: 1.0, EXTENDED: EXTENDED_HOURS_RATE, CLOSED: 0.0}


class _Factor:
    """A lazily sampled Brownian factor plus the running sum of its jumps."""

    __slots__ = ("jump_sum", "next_jump", "t", "v")

    def __init__(self, t: float) -> None:
        self.v = 0.0
        self.t = t
        self.jump_sum = 0.0  # in one-minute sigmas of each loaded symbol
        self.next_jump = math.inf


class _Symbol:
    """Mutable state of one simulated symbol; slots keep the hot loop's lookups cheap."""

    __slots__ = ("active", "asset", "decimals", "f0", "factor", "g0", "gen", "half_spread",
                 "j0", "jump_rate", "jump_unit", "logp", "next_jump", "next_shock", "rate",
                 "ref", "sc", "se", "sg", "shocks", "size_decimals", "size_scale",
                 "stock_hours", "symbol", "t")

    def __init__(self, ref: SymbolRef) -> None:
        self.ref = ref
        self.symbol = ref.symbol
        self.asset = ref.asset
        self.active = True
        self.gen = 0  # bumped on removal so queued arrivals of the old life are ignored
        self.shocks: list[tuple[float, float]] = []  # (at_ts, log move), sorted
        self.next_shock = math.inf
        self.next_jump = math.inf


def _price_decimals(asset: str, price: float) -> int:
    """Return how many decimals quotes of ``price`` carry (cents, pips, crypto tick sizes)."""
    if asset == STOCKS:
        return 2
    if asset == FOREX:
        return 3 if price >= 20 else 5
    return max(2, min(8, 5 - math.floor(math.log10(price))))


class SyntheticMarket:
    """A seeded, pure market model that generates ticks for a set of symbols in time order.

    ``universe`` is any iterable of :class:`SymbolRef` (order does not matter: symbols are
    sorted so a set gives the same output). ``rate_scale`` multiplies every tick rate,
    ``jumps`` every jump intensity (0 disables jumps). Ticks carry ``provider``.

    >>> from pulse.feeds.universe import DEFAULT_UNIVERSE
    >>> market = SyntheticMarket(DEFAULT_UNIVERSE, seed=1, start_ts=1_723_161_600.0,
    ...                          stock_hours="always")
    >>> ticks = list(market.ticks_until(1_723_161_660.0))
    >>> all(a.ts <= b.ts for a, b in zip(ticks, ticks[1:]))
    True
    """

    def __init__(
        self,
        universe: Iterable[SymbolRef],
        *,
        seed: int = 0,
        start_ts: float | None = None,
        stock_hours: str = "nyse",
        rate_scale: float = 1.0,
        jumps: float = 1.0,
        provider: str = "synthetic",
    ) -> None:
        if stock_hours not in STOCK_HOURS:
            raise ValueError(f"stock_hours must be one of {', '.join(STOCK_HOURS)}, "
                             f"got {stock_hours!r}")
        if not (math.isfinite(rate_scale) and rate_scale > 0):
            raise ValueError(f"rate_scale must be a positive number, got {rate_scale!r}")
        if not (math.isfinite(jumps) and jumps >= 0):
            raise ValueError(f"jumps must be a non-negative number, got {jumps!r}")
        self.seed = seed
        self.stock_hours = stock_hours
        self.rate_scale = rate_scale
        self.jumps = jumps
        self.provider = provider
        self.now = time.time() if start_ts is None else float(start_ts)
        self._rng = random.Random(seed)
        self._seq = itertools.count()
        # (ts, seq, symbol, generation, is_shock): seq makes ties resolve deterministically
        # and keeps tuple comparison away from the symbol objects.
        self._heap: list[tuple[float, int, _Symbol, int, bool]] = []
        self._global = _Factor(self.now)
        self._factors = {asset: _Factor(self.now) for asset in CLASS_MODELS}
        if jumps > 0:
            for factor in self._factors.values():
                factor.next_jump = self.now + self._rng.expovariate(jumps / CLASS_JUMP_EVERY)
        self._symbols: dict[SymbolRef, _Symbol] = {}
        self._segment = (0.0, 0.0, 0.0)  # cached (start, end, rate multiplier) of stock hours
        for ref in sorted(set(universe)):
            self.add(ref)

    # -- universe -------------------------------------------------------------------------

    @property
    def symbols(self) -> frozenset[SymbolRef]:
        """The symbols ticking now."""
        return frozenset(ref for ref, s in self._symbols.items() if s.active)

    def add(self, ref: SymbolRef) -> None:
        """Start ticking ``ref`` from :attr:`now`; a symbol removed earlier resumes its price."""
        if ref.asset not in CLASS_MODELS:
            raise ValueError(f"unknown asset class {ref.asset!r}")
        s = self._symbols.get(ref)
        if s is None:
            s = self._new_symbol(ref)
            self._symbols[ref] = s
        elif s.active:
            return
        s.active = True
        s.gen += 1
        # Rebase factor snapshots: time spent removed is not accrued as one giant move.
        s.t = self.now
        s.g0 = self._global.v
        s.f0 = s.factor.v
        s.j0 = s.factor.jump_sum
        if self.jumps > 0:
            s.next_jump = self.now + self._rng.expovariate(s.jump_rate)
        self._schedule(s, self.now)

    def remove(self, ref: SymbolRef) -> None:
        """Stop ticking ``ref`` (its price is kept should it be added again)."""
        s = self._symbols.get(ref)
        if s is not None and s.active:
            s.active = False
            s.gen += 1

    def _new_symbol(self, ref: SymbolRef) -> _Symbol:
        """Build the state of ``ref`` from its profile and class model."""
        model = CLASS_MODELS[ref.asset]
        prof = profile(ref)
        s = _Symbol(ref)
        sigma = prof.annual_vol / math.sqrt(model.seconds_per_year)  # per sqrt(second)
        sign = -1.0 if ref.asset == FOREX and ref.symbol.startswith("USD") else 1.0
        s.sg = sigma * math.sqrt(GLOBAL_CORR)
        s.sc = sign * sigma * math.sqrt(model.within_corr - GLOBAL_CORR)
        s.se = sigma * math.sqrt(1.0 - model.within_corr)
        s.jump_unit = sign * sigma * math.sqrt(60.0)  # one one-minute sigma, in log price
        s.jump_rate = self.jumps / IDIO_JUMP_EVERY
        s.rate = model.rate * prof.activity * self.rate_scale
        s.logp = math.log(prof.price)
        s.decimals = _price_decimals(ref.asset, prof.price)
        s.half_spread = model.half_spread
        s.stock_hours = ref.asset == STOCKS and self.stock_hours == "nyse"
        s.factor = self._factors[ref.asset]
        # Trade sizes: stocks in shares, crypto around a few thousand dollars of notional.
        s.size_scale = 1500.0 / prof.price
        s.size_decimals = max(0, min(8, int(math.log10(prof.price)) + 1))
        return s

    # -- scheduling -----------------------------------------------------------------------

    def _schedule(self, s: _Symbol, t: float) -> None:
        """Queue the next Poisson arrival of ``s`` after ``t``."""
        if s.stock_hours:
            nxt = self._next_stock_arrival(t, s.rate)
        else:
            nxt = t + self._rng.expovariate(s.rate)
        heapq.heappush(self._heap, (nxt, next(self._seq), s, s.gen, False))

    def _stock_rate(self, t: float) -> tuple[float, float]:
        """Return (rate multiplier, segment end) of US stock hours at ``t``, cached."""
        start, end, mult = self._segment
        if not start <= t < end:
            name, start, end = us_stock_session(t)
            mult = _SESSION_RATE[name]
            self._segment = (start, end, mult)
        return mult, end

    def _next_stock_arrival(self, t: float, rate: float) -> float:
        """Sample the next arrival of a piecewise-constant Poisson process (exact: memoryless)."""
        while True:
            mult, end = self._stock_rate(t)
            if mult > 0:
                candidate = t + self._rng.expovariate(rate * mult)
                if candidate < end:
                    return candidate
            t = end

    # -- scripted events ------------------------------------------------------------------

    def shock(self, symbol: str | SymbolRef, at_ts: float, pct: float) -> None:
        """Move ``symbol`` by ``pct`` percent (-5.0 is a 5 % drop) at its tick at ``at_ts``.

        The symbol ticks at ``at_ts`` (or at :attr:`now` if that is later) with the move
        applied; a stock that is closed then takes it at its next tick. Raise KeyError for an
        unknown symbol and ValueError for a move of -100 % or worse.
        """
        s = self._lookup(symbol)
        if not (math.isfinite(pct) and pct > -100.0):
            raise ValueError(f"pct must be a finite number above -100, got {pct!r}")
        at_ts = max(float(at_ts), self.now)
        s.shocks.append((at_ts, math.log1p(pct / 100.0)))
        s.shocks.sort()
        s.next_shock = s.shocks[0][0]
        heapq.heappush(self._heap, (at_ts, next(self._seq), s, s.gen, True))

    def _lookup(self, symbol: str | SymbolRef) -> _Symbol:
        """Return the active symbol state named by a SymbolRef or a bare symbol string."""
        if isinstance(symbol, SymbolRef):
            s = self._symbols.get(symbol)
        else:
            s = next((x for x in self._symbols.values() if x.symbol == symbol), None)
        if s is None or not s.active:
            raise KeyError(f"unknown symbol {symbol!r}")
        return s

    # -- output ---------------------------------------------------------------------------

    def _quote(self, s: _Symbol, ts: float, size: float | None) -> Tick:
        """Return a tick of ``s`` at its current log price (forex as a bid/ask mid)."""
        mid = math.exp(s.logp)
        if s.half_spread:
            half = mid * s.half_spread
            bid = round(mid - half, s.decimals)
            ask = round(mid + half, s.decimals)
            # The mid of two quotes has one more decimal; rounding drops float noise only.
            return Tick(s.symbol, s.asset, ts, round((bid + ask) / 2, s.decimals + 1),
                        bid=bid, ask=ask, provider=self.provider)
        return Tick(s.symbol, s.asset, ts, round(mid, s.decimals), size=size,
                    provider=self.provider)

    def last_price(self, ref: SymbolRef) -> float:
        """Return the current model price of ``ref`` (unrounded)."""
        return math.exp(self._symbols[ref].logp)

    def opening_ticks(self, ts: float | None = None,
                      refs: Iterable[SymbolRef] | None = None) -> list[Tick]:
        """Return one tick per active symbol (or per active one of ``refs``) at its last price.

        ``ts`` defaults to :attr:`now`. A closed stock's tick is its last close. No random
        draws: calling this does not change the ticks that follow.
        """
        ts = self.now if ts is None else ts
        wanted = None if refs is None else set(refs)
        return [self._quote(s, ts, None) for ref, s in sorted(self._symbols.items())
                if s.active and (wanted is None or ref in wanted)]

    @property
    def next_ts(self) -> float:
        """Time of the next queued arrival (may belong to a removed symbol), inf if none."""
        return self._heap[0][0] if self._heap else math.inf

    def ticks_until(self, ts_end: float) -> Iterator[Tick]:
        """Yield every tick with ``ts <= ts_end`` in non-decreasing ``ts`` order.

        State is updated before each yield, so stopping early (``itertools.islice``) leaves
        the market consistent and the next call continues where this one stopped.
        """
        heap = self._heap
        pop = heapq.heappop
        push = heapq.heappush
        seq = self._seq
        rng = self._rng
        gauss = rng.gauss
        expovariate = rng.expovariate
        uniform = rng.uniform
        sqrt = math.sqrt
        exp = math.exp
        g = self._global
        jump_lo, jump_hi = JUMP_SIGMAS
        class_jump_rate = self.jumps / CLASS_JUMP_EVERY
        while heap and heap[0][0] <= ts_end:
            ts, _, s, gen, is_shock = pop(heap)
            if gen != s.gen:
                continue  # queued before the symbol was removed
            if is_shock and s.stock_hours and self._stock_rate(ts)[0] == 0.0:
                continue  # closed: the pending shock applies at the next open tick
            self.now = ts
            if ts - g.t >= GLOBAL_STEP:
                g.v += sqrt(ts - g.t) * gauss()
                g.t = ts
            f = s.factor
            if ts > f.t:
                f.v += sqrt(ts - f.t) * gauss()
                f.t = ts
                if ts >= f.next_jump:
                    jump = uniform(jump_lo, jump_hi)
                    f.jump_sum += jump if rng.random() < 0.5 else -jump
                    f.next_jump = ts + expovariate(class_jump_rate)
            dt = ts - s.t
            move = s.sg * (g.v - s.g0) + s.sc * (f.v - s.f0)
            if dt > 0:
                move += s.se * sqrt(dt) * gauss()
                if dt > MAX_SILENCE:
                    move *= sqrt(MAX_SILENCE / dt)
            if f.jump_sum != s.j0:
                move += s.jump_unit * (f.jump_sum - s.j0)
            if ts >= s.next_jump:
                jump = uniform(jump_lo, jump_hi)
                move += s.jump_unit * (jump if rng.random() < 0.5 else -jump)
                s.next_jump = ts + expovariate(s.jump_rate)
            if ts >= s.next_shock:
                shocks = s.shocks
                while shocks and shocks[0][0] <= ts:
                    move += shocks.pop(0)[1]
                s.next_shock = shocks[0][0] if shocks else math.inf
            s.logp += move
            s.t = ts
            s.g0 = g.v
            s.f0 = f.v
            s.j0 = f.jump_sum
            if is_shock:
                pass
            elif s.stock_hours:
                push(heap, (self._next_stock_arrival(ts, s.rate), next(seq), s, gen, False))
            else:
                push(heap, (ts + expovariate(s.rate), next(seq), s, gen, False))
            out_ts = round(ts, 6)  # microseconds, like real feeds; rounding keeps the order
            if s.half_spread:
                yield self._quote(s, out_ts, None)
            elif s.asset == STOCKS:
                yield Tick(s.symbol, STOCKS, out_ts, round(exp(s.logp), s.decimals),
                           size=float(int(expovariate(0.005)) + 1), provider=self.provider)
            else:
                size = round(expovariate(1.0) * s.size_scale, s.size_decimals)
                yield Tick(s.symbol, s.asset, out_ts, round(exp(s.logp), s.decimals),
                           size=size or 10.0 ** -s.size_decimals, provider=self.provider)
        if ts_end > self.now and math.isfinite(ts_end):
            self.now = ts_end
