"""The engine facade: validate ticks, update per-symbol state, emit stress events, and answer
snapshot and correlation queries.

``on_tick`` is the hot path. It does only O(1) work per tick (validation, the plausibility
band and the stress gate: a few comparisons, last price); anything heavier happens once per
grid cell per symbol in :meth:`SymbolState.advance`, and a tick outside the plausibility band
takes the slow path in :meth:`Engine._suspect` (see ``plausibility``). Time is the ticks'
event time throughout. Input rules: README.md, "Input hygiene"; docs/input-hygiene.md.

What the engine accepts is what everything downstream must see: the correlation tracker gets
every applied tick, and an optional ``on_accept`` observer (the market recorder) every
accepted one, both from the same places, so nobody re-implements the acceptance rules.
A restarted symbol is forgotten by both (``on_restart``, ``CorrelationTracker.forget``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from pulse.engine.config import EngineConfig
from pulse.engine.correlation import CorrelationConfig, CorrelationTracker
from pulse.engine.events import StressEvent
from pulse.engine.plausibility import GuardRules, PrintGuard
from pulse.engine.regime import HIGH_VOL
from pulse.engine.symbol_state import SymbolState
from pulse.engine.tick import ASSET_CLASSES, Tick

INF = math.inf
# ``on_accept(symbol, asset, ts, price, bid, ask)``: see ``Engine.on_accept``.
AcceptObserver = Callable[[str, str, float, float, float | None, float | None], None]
# Shared empty result: a tuple, so a caller cannot mutate it for everyone else.
NO_EVENTS: tuple[StressEvent, ...] = ()
REJECT_REASONS = ("nan", "inf", "non_positive", "implausible", "invalid", "bad_ts",
                  "bad_symbol", "bad_asset", "asset_mismatch", "duplicate", "out_of_order",
                  "future", "outlier")


def _as_float(value: Any) -> float | None:
    """Return ``value`` as a float if it is a real number (not bool or text), else None."""
    if isinstance(value, bool | str | bytes) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _price_reason(p: float) -> str:
    """Return the reject reason of a price outside the sanity bounds."""
    if p != p:
        return "nan"
    if p == INF or p == -INF:
        return "inf"
    return "non_positive" if p <= 0.0 else "implausible"


class GuardedState(SymbolState):
    """A symbol's metric state plus its input guard (hygiene is the engine's job, so the
    guard lives here rather than in :class:`SymbolState`).
    """

    __slots__ = ("guard",)

    def __init__(self, symbol: str, asset: str, cfg: EngineConfig, rules: GuardRules) -> None:
        super().__init__(symbol, asset, cfg)
        self.guard = PrintGuard(rules, asset)


class Engine:
    """Incremental per-symbol metrics, regime, stress events and correlation over ticks."""

    def __init__(self, config: EngineConfig | None = None, *,
                 tracker: CorrelationTracker | None = None) -> None:
        """Build an engine; ``tracker`` replaces the correlation tracker built from
        ``config.correlation`` (tests inject fakes through it).
        """
        self.config = cfg = config if config is not None else EngineConfig()
        self._states: dict[str, GuardedState] = {}
        self._changed: set[str] = set()
        self._rejected = dict.fromkeys(REJECT_REASONS, 0)
        self._accepted = 0
        self._late = 0  # late ticks within tolerance: counted, never replace a newer last
        self._held = 0  # suspect prints held by the plausibility filter
        self._confirmed = 0  # held prints later confirmed and applied
        self._reanchored = 0  # young symbols restarted on a confirmed level (bad first print)
        self._clock_resets = 0  # symbols restarted because their last ts was bogus
        self._events = 0
        self._now = -INF
        # A tick more than ``time_leap`` s ahead of ``now`` waits for one more tick to confirm
        # the new time (``_leap``). ``_leap_at`` is ``now + time_leap`` as of the last check:
        # it lags ``now`` (so the hot path never updates it), and a tick beyond it takes the
        # slow path, which refreshes it; -inf while a tick waits.
        self._time_leap = INF if cfg.time_leap is None else float(cfg.time_leap)
        self._leap_at = INF if cfg.time_leap is None else -INF
        self._pending: Tick | None = None
        self._leaps = 0  # ticks that waited for their time to be confirmed
        self._future_tol = INF if cfg.future_tolerance is None else cfg.future_tolerance
        self._tol = cfg.out_of_order_tolerance
        self._pmin, self._pmax = (float(b) for b in cfg.price_bounds)
        self._tmin, self._tmax = (float(b) for b in cfg.ts_bounds)
        self._guard_on = cfg.plausibility_k is not None
        self._rules = GuardRules(
            cfg.plausibility_k or 1.0, cfg.plausibility_min_pct, cfg.plausibility_prior_vol,
            cfg.annualization, cfg.plausibility_confirm_ticks, cfg.plausibility_confirm_seconds,
            cfg.plausibility_max_held)
        # The band's width follows the baseline (one-hour half-life) once a minute.
        self._width_cells = max(1, round(60.0 / cfg.grid_step))
        self._reset_n = cfg.clock_reset_ticks
        self._reset_s = cfg.clock_reset_seconds
        self._g = float(cfg.grid_step)
        self._id_memory = cfg.duplicate_id_memory
        if tracker is None:
            tracker = CorrelationTracker(CorrelationConfig.from_mapping(cfg.correlation))
        self._tracker = tracker
        self._observe = tracker.observe
        # Optional observers of what the engine accepted (see ``on_accept``); plain
        # callables, None when nobody listens.
        self._on_accept: AcceptObserver | None = None
        # ``on_restart(symbol)``: called when a symbol starts over (``clock_resets``,
        # ``reanchored``), before its first tick is accepted again.
        self.on_restart: Callable[[str], None] | None = None
        # Correlation is answered as of ``now - correlation_lag``: ingest shards that import
        # each other's grid samples (which arrive a second or two late) set it, so every
        # symbol of a matrix is complete up to the same cell. 0 in a single process.
        self.correlation_lag = 0.0

    # -- observers ------------------------------------------------------------------------

    @property
    def on_accept(self) -> AcceptObserver | None:
        """The observer of accepted ticks (the market recorder), or None.

        ``on_accept(symbol, asset, ts, price, bid, ask)`` is called for every accepted tick,
        in the order the engine takes them, with the symbol's last time, price and quote
        after it: a held print when its level is confirmed (at its own time, never earlier
        than a held print before it), a late tick at the newer last it did not replace.
        Applied ticks reach it through the same call that feeds the correlation tracker, so
        the hot path costs nothing more while no observer is set.
        """
        return self._on_accept

    @on_accept.setter
    def on_accept(self, observer: AcceptObserver | None) -> None:
        self._on_accept = observer
        track = self._tracker.observe
        if observer is None:
            self._observe = track
            return
        states = self._states

        def observe(symbol: str, ts: float, price: float) -> None:
            track(symbol, ts, price)
            st = states[symbol]
            observer(symbol, st.asset, ts, price, st.bid, st.ask)

        self._observe = observe

    # -- hot path ------------------------------------------------------------------------------

    def on_tick(self, tick: Tick) -> Sequence[StressEvent]:
        """Ingest one tick; return the stress events it triggered: a new list, or the
        shared empty tuple when nothing fires. Bad ticks are counted per reason and never
        change state; a suspect print is held until later ticks confirm or refute it.
        """
        p = tick.price
        ts = tick.ts
        if p.__class__ is not float or ts.__class__ is not float:
            # Rare path: ints and Decimals are coerced so state stays all-float; strings,
            # None and other objects are rejected.
            p = _as_float(p)
            ts = _as_float(ts)
            if p is None or ts is None:
                self._rejected["invalid"] += 1
                return NO_EVENTS
        try:
            if not self._pmin < p < self._pmax:
                self._rejected[_price_reason(p)] += 1
                return NO_EVENTS
            if not self._tmin < ts < self._tmax:
                self._rejected["bad_ts"] += 1
                return NO_EVENTS
            if ts - tick.recv_ts > self._future_tol:
                # Exchange time ahead of receipt time: a bogus timestamp that would
                # otherwise drag this symbol's windows into the future.
                self._rejected["future"] += 1
                return NO_EVENTS
        except TypeError:  # a non-numeric recv_ts
            self._rejected["invalid"] += 1
            return NO_EVENTS
        if ts > self._leap_at:
            return self._leap(tick, ts)
        symbol = tick.symbol
        trade_id = tick.trade_id
        late = False
        try:
            st = self._states.get(symbol)
            if st is None:
                st = self._new_state(tick)
                if st is None:
                    return NO_EVENTS
            else:
                if tick.asset != st.asset:
                    # One symbol names one instrument of one class: never mix two streams.
                    self._rejected["asset_mismatch"] += 1
                    return NO_EVENTS
                last_ts = st.last_ts
                if ts < last_ts:
                    if ts < last_ts - self._tol:
                        return self._out_of_order(st, tick)
                    late = True
            seen = trade_id is not None and trade_id in st.ids
        except TypeError:  # an unhashable symbol or trade id
            self._rejected["invalid"] += 1
            return NO_EVENTS
        if trade_id is not None:
            if seen:
                self._rejected["duplicate"] += 1
                return NO_EVENTS
            ids = st.ids
            queue = st.id_queue
            if len(queue) >= self._id_memory:
                ids.discard(queue.popleft())
            queue.append(trade_id)
            ids.add(trade_id)
        if late:
            # A real trade, so it counts (tick totals and rate), but a newer price stays last.
            self._late += 1
            self._accepted += 1
            st.ticks += 1
            self._changed.add(symbol)  # its tick count changed
            if self._on_accept is not None:
                self._on_accept(symbol, st.asset, st.last_ts, st.last, st.bid, st.ask)
            return NO_EVENTS
        g = st.guard
        if not g.lo < p < g.hi:
            return self._suspect(st, symbol, ts, p, tick)
        # Accept: the same steps as ``_accept`` (used by the slow paths), inlined here to save
        # a call per tick; tests/engine/test_plausibility.py checks that both give one state.
        if ts > self._now:
            self._now = ts
        c = int(ts // self._g)
        if c != st.cell:
            spike = st.advance(c, ts)
            if c >= g.width_next:
                rate = st.base_rate()
                g.rewidth(None if rate is None else math.sqrt(rate), c + self._width_cells)
            if not g.held:  # the fast band follows the price once per cell
                g.lo = p * g.down
                g.hi = p * g.up
        else:
            spike = None
        st.last = p
        st.last_ts = ts
        st.ticks += 1
        bid = tick.bid
        if bid is not None:
            self._set_quote(st, bid, tick.ask)
        self._changed.add(symbol)
        self._accepted += 1
        self._observe(symbol, ts, p)
        det = st.detector
        if p >= det.hi or p <= det.lo:
            events = det.check_moves(p, ts, symbol, st.asset, st.regime.label)
            if spike is not None:
                events.insert(0, spike)
            if events:
                self._events += len(events)
                return events
            return NO_EVENTS
        if spike is not None:
            self._events += 1
            return [spike]
        return NO_EVENTS

    def _accept(self, st: GuardedState, symbol: str, ts: float, p: float,
                tick: Tick) -> Sequence[StressEvent]:
        """Apply one valid, plausible tick to its symbol; return the events it fires (the
        slow paths' copy of the end of ``on_tick``)."""
        if ts > self._now:
            self._now = ts
        c = int(ts // self._g)
        if c != st.cell:
            spike = st.advance(c, ts)
            g = st.guard
            if c >= g.width_next:
                rate = st.base_rate()
                g.rewidth(None if rate is None else math.sqrt(rate), c + self._width_cells)
            if not g.held:  # the fast band follows the price once per cell
                g.lo = p * g.down
                g.hi = p * g.up
        else:
            spike = None
        st.last = p
        st.last_ts = ts
        st.ticks += 1
        bid = tick.bid
        if bid is not None:
            self._set_quote(st, bid, tick.ask)
        self._changed.add(symbol)
        self._accepted += 1
        self._observe(symbol, ts, p)
        det = st.detector
        if p >= det.hi or p <= det.lo:
            events = det.check_moves(p, ts, symbol, st.asset, st.regime.label)
            if spike is not None:
                events.insert(0, spike)
            if events:
                self._events += len(events)
                return events
            return NO_EVENTS
        if spike is not None:
            self._events += 1
            return [spike]
        return NO_EVENTS

    def _suspect(self, st: GuardedState, symbol: str, ts: float, p: float,
                 tick: Tick) -> Sequence[StressEvent]:
        """Slow path of a tick outside the fast band: judge it exactly against the last
        accepted price and decide about any held suspects (see ``plausibility``).
        """
        if st.cell is None or not self._guard_on:  # first tick: nothing to compare with
            return self._accept(st, symbol, ts, p, tick)
        g = st.guard
        held = g.held
        side = g.side_of(p, ts, st.last, st.last_ts)
        if not held:
            if not side:
                return self._accept(st, symbol, ts, p, tick)
            g.hold((ts, p, tick), side)
            self._held += 1
            return NO_EVENTS
        if not side:  # back near the old level: the held prints were bad
            self._rejected["outlier"] += len(g.release(p))
            return self._accept(st, symbol, ts, p, tick)
        if side != g.side:  # far the other way: overtaken, this one is the new suspect
            self._rejected["outlier"] += len(g.release(p))
            g.hold((ts, p, tick), side)
            self._held += 1
            return NO_EVENTS
        t_prev = held[-1][0]
        if len(held) >= self._rules.max_held and ts <= t_prev:
            # A burst at the suspect's time: bounded. A later tick is still taken (at most
            # ``confirm_ticks`` of them, then the run is decided), so a sweep of many fills
            # at one millisecond cannot stop a genuine new level from confirming.
            self._rejected["outlier"] += 1
            return NO_EVENTS
        held.append((ts if ts > t_prev else t_prev, p, tick))
        self._held += 1
        if not g.confirmed():
            return NO_EVENTS
        run = g.release(p)
        self._confirmed += len(run)
        if st.ticks < len(run):
            # The old level rests on fewer ticks than the new one (a bad first print of a
            # new symbol): restart the symbol on the confirmed level.
            st = self._reanchor(st)
        events: list[StressEvent] = []
        for ts_i, p_i, tick_i in run:
            events.extend(self._accept(st, symbol, ts_i, p_i, tick_i))
        return events or NO_EVENTS

    def _reanchor(self, st: GuardedState) -> GuardedState:
        """Replace ``st`` by a fresh state (keeping its trade ids); its ticks become outliers."""
        self._reanchored += 1
        self._rejected["outlier"] += st.ticks
        self._accepted -= st.ticks
        fresh = GuardedState(st.symbol, st.asset, self.config, self._rules)
        fresh.ids = st.ids
        fresh.id_queue = st.id_queue
        self._states[st.symbol] = fresh
        self._restarted(st.symbol)
        return fresh

    def _restarted(self, symbol: str) -> None:
        """Tell the correlation tracker and the restart observer that ``symbol`` starts
        over: whatever they derived from its earlier ticks rests on a bogus time or price.
        """
        self._tracker.forget(symbol)
        if self.on_restart is not None:
            self.on_restart(symbol)

    def _out_of_order(self, st: GuardedState, tick: Tick) -> Sequence[StressEvent]:
        """Reject a tick older than the symbol's last beyond tolerance; restart the symbol
        if its ticks have all been rejected for a while because its last ts is bogus.
        """
        self._rejected["out_of_order"] += 1
        g = st.guard
        recv = tick.recv_ts
        if g.ooo_ticks != st.ticks:  # an accepted tick since: a new run of rejections
            g.ooo_ticks = st.ticks
            g.ooo_n = 0
            g.ooo_from = recv
        g.ooo_n += 1
        if (g.ooo_n >= self._reset_n and recv - g.ooo_from >= self._reset_s
                and st.last_ts > recv + self._tol):
            # The symbol's last ts lies ahead of the receipt clock: it is the bogus one.
            self._clock_resets += 1
            self._rejected["out_of_order"] -= 1  # this tick is taken after all
            self._rejected["outlier"] += len(g.held)
            del self._states[st.symbol]
            self._restarted(st.symbol)
            self._now = max((s.last_ts for s in self._states.values()), default=-INF)
            if self._time_leap < INF:
                self._leap_at = -INF  # recheck against the recomputed now
            return self.on_tick(tick)
        return NO_EVENTS

    def _leap(self, tick: Tick, ts: float) -> Sequence[StressEvent]:
        """Slow path of a tick far ahead of ``now`` (or of any tick while one waits).

        A tick with its own receipt time has passed the ``future`` check: the receipt clock
        vouches for the jump (a real gap), so it goes through. Without one (``recv_ts ==
        ts``, as in replay files without receipt times) nothing catches a bogus future stamp,
        and one such tick would drag ``now`` (every symbol's staleness) and freeze its
        symbol. So it waits, and the next valid tick decides: at or after its time (less the
        out-of-order tolerance), the stream really moved on and both are applied; before it,
        the waiting stamp was bogus (``bad_ts``).
        """
        pending = self._pending
        events: list[StressEvent] = []
        if pending is None:
            now = self._now
            if now > -INF and ts > now + self._time_leap and tick.recv_ts == tick.ts:
                self._pending = tick
                self._leap_at = -INF  # every tick comes here until this one is decided
                self._leaps += 1
                return NO_EVENTS
            # Not a leap after all (``_leap_at`` lagged ``now``), or vouched for by its
            # receipt time, or the engine's first tick: let it through.
        else:
            self._pending = None
            self._leap_at = INF  # let the decided ticks through the check below
            if ts >= float(pending.ts) - self._tol:
                events.extend(self.on_tick(pending))
            else:
                self._rejected["bad_ts"] += 1
        self._leap_at = INF
        events.extend(self.on_tick(tick))
        if self._pending is None:
            now = self._now
            self._leap_at = now + self._time_leap if now > -INF else -INF
        return events or NO_EVENTS

    def _new_state(self, tick: Tick) -> GuardedState | None:
        """Create the state of a symbol's first valid tick; count and return None if bad."""
        symbol = tick.symbol
        if not isinstance(symbol, str) or not symbol:
            self._rejected["bad_symbol"] += 1
            return None
        if tick.asset not in ASSET_CLASSES:
            self._rejected["bad_asset"] += 1
            return None
        if tick.trade_id is not None:
            hash(tick.trade_id)  # an unhashable id raises before any state exists
        st = GuardedState(symbol, tick.asset, self.config, self._rules)
        if not self._guard_on:
            st.guard.disable()
        self._states[symbol] = st
        return st

    @staticmethod
    def _set_quote(st: SymbolState, bid: Any, ask: Any) -> None:
        # Quotes are informational: a bad one is ignored rather than rejecting the trade.
        try:
            if 0.0 < bid < INF:
                st.bid = float(bid)
            if ask is not None and 0.0 < ask < INF:
                st.ask = float(ask)
        except TypeError:
            pass

    # -- reading -------------------------------------------------------------------------------

    @property
    def now(self) -> float | None:
        """Return the latest accepted event time (max tick ts seen), None before any tick."""
        return None if self._now == -INF else self._now

    def symbols(self) -> list[str]:
        """Return the symbols seen so far, sorted."""
        return sorted(self._states)

    def snapshot(self, symbol: str) -> dict[str, Any] | None:
        """Return the JSON-ready snapshot of ``symbol``, or None if it never ticked."""
        st = self._states.get(symbol)
        return None if st is None else st.snapshot(self.now)

    def snapshots(self, symbols: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Return snapshots keyed by symbol (all symbols by default; unknown ones skipped)."""
        now = self.now
        states = self._states
        names = sorted(states) if symbols is None else symbols
        return {s: states[s].snapshot(now) for s in names if s in states}

    def take_changed(self) -> set[str]:
        """Return the symbols with accepted ticks since the previous call, and reset."""
        changed = self._changed
        self._changed = set()
        return changed

    def stats(self) -> dict[str, Any]:
        """Return counters: accepted, rejected per reason, late_accepted (late ticks within
        tolerance: counted, not applied), held and confirmed (plausibility filter),
        reanchored and clock_resets (symbols restarted), time_leaps (ticks that waited for
        a second tick to confirm a jump of event time), symbols, events, and robust_clipped
        (jump-robust variance terms winsorised against the baseline).
        """
        return {"accepted": self._accepted, "rejected": dict(self._rejected),
                "late_accepted": self._late, "held": self._held,
                "confirmed": self._confirmed, "reanchored": self._reanchored,
                "clock_resets": self._clock_resets, "time_leaps": self._leaps,
                "symbols": len(self._states),
                "events": self._events,
                "robust_clipped": sum(st.clipped for st in self._states.values())}

    def regime(self, symbol: str) -> str | None:
        """Return the regime label of ``symbol``, or None if unknown symbol."""
        st = self._states.get(symbol)
        return None if st is None else st.regime.label

    def memory_bytes(self, symbol: str) -> int:
        """Return the approximate bytes of engine state held for ``symbol`` (0 if unknown)."""
        st = self._states.get(symbol)
        return 0 if st is None else st.memory_bytes()

    # -- correlation ---------------------------------------------------------------------------

    def correlation_window(self, base: str | None = None, window: float | None = None) -> float:
        """Return the lookback: explicit ``window``, else the configured fixed window, else
        the short window when ``base`` is in ``high_vol``, else the normal window.
        """
        cfg = self.config
        if window is not None:
            return float(window)
        if cfg.corr_window_fixed is not None:
            return float(cfg.corr_window_fixed)
        if base is not None and self.regime(base) == HIGH_VOL:
            return float(cfg.corr_window_high_vol)
        return float(cfg.corr_window)

    def correlation(self, symbols: list[str], *, base: str | None = None,
                    window: float | None = None, method: str | None = None,
                    bucket_seconds: float | None = None) -> dict[str, Any]:
        """Return the correlation matrix of ``symbols`` as of ``now`` (regime-aware lookback
        keyed on ``base``); adds ``base`` and ``base_regime`` to the tracker's answer.
        ``bucket_seconds`` sets the bucket of the ``bucketed`` method for this query.
        """
        w = self.correlation_window(base, window)
        result = self._tracker.matrix(list(symbols), self._corr_now(), window=w,
                                      method=method, bucket_seconds=bucket_seconds)
        result["base"] = base
        result["base_regime"] = None if base is None else self.regime(base)
        return result

    def top_correlated(self, base: str, symbols: list[str], k: int = 3, *,
                       window: float | None = None, method: str | None = None,
                       bucket_seconds: float | None = None) -> list[dict[str, Any]]:
        """Return the ``k`` symbols most correlated with ``base`` (regime-aware lookback)."""
        w = self.correlation_window(base, window)
        return self._tracker.top_k(base, list(symbols), self._corr_now(), k,
                                   window=w, method=method, bucket_seconds=bucket_seconds)

    def _corr_now(self) -> float:
        now = self.now
        return 0.0 if now is None else now - self.correlation_lag

    def correlation_symbols(self) -> list[str]:
        """Return every symbol correlation can be asked about: this engine's own and those
        whose grid samples were imported from another ingest shard, sorted.
        """
        return self._tracker.symbols()

    def export_correlation_samples(self, after: dict[str, int], *, margin: float = 1.0
                                   ) -> tuple[int, dict[str, list]]:
        """Return ``(last cell, {symbol: samples})`` of this engine's own symbols for other
        shards: grid cells that ended at least ``margin`` seconds before ``now`` (ticks of
        slower feeds may still arrive for younger ones), after ``after[symbol]``.
        """
        if self.now is None:
            return -1, {}
        return self._tracker.export_samples(list(self._states), self.now - margin, after)

    @property
    def correlation_late_samples(self) -> int:
        """Imported samples dropped because their cell was already closed here."""
        return self._tracker.late_samples

    def import_correlation_samples(self, symbol: str, samples: list) -> int:
        """Take another shard's grid samples of ``symbol`` (ignored for own symbols)."""
        if symbol in self._states:
            return 0
        return self._tracker.import_samples(symbol, samples)

    @property
    def correlation_config(self) -> Any:
        """The correlation tracker's settings (``CorrelationConfig``), read-only."""
        return self._tracker.config

    def history(self, symbol: str, seconds: float = 3600.0,
                step: float = 10.0) -> list[list[float]]:
        """Return ``[[ts, price], ...]``: ``symbol``'s price every ``step`` s over ``seconds``.

        Served from the correlation grid (previous-tick prices on a 1 s clock, kept for the
        longest correlation window), so charts cost no extra state.
        """
        return self._tracker.history(symbol, seconds, step)
