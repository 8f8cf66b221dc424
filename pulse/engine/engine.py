"""The engine facade: validate ticks, update per-symbol state, emit stress events, and answer
snapshot and correlation queries.

``on_tick`` is the hot path. It does only O(1) work per tick (validation, last price, a gate
comparison); anything heavier happens once per grid cell per symbol in
:meth:`SymbolState.advance`. Time is the ticks' event time throughout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pulse.engine.config import EngineConfig
from pulse.engine.correlation import CorrelationConfig, CorrelationTracker
from pulse.engine.events import StressEvent
from pulse.engine.regime import HIGH_VOL
from pulse.engine.symbol_state import SymbolState
from pulse.engine.tick import ASSET_CLASSES, Tick

INF = math.inf
# Shared empty result: a tuple, so a caller cannot mutate it for everyone else.
NO_EVENTS: tuple[StressEvent, ...] = ()
REJECT_REASONS = ("nan", "inf", "non_positive", "invalid", "bad_ts", "bad_symbol", "bad_asset",
                  "duplicate", "out_of_order", "future")


def _as_float(value: Any) -> float | None:
    """Return ``value`` as a float if it is a real number (not bool or text), else None."""
    if isinstance(value, bool | str | bytes) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


class Engine:
    """Incremental per-symbol metrics, regime, stress events and correlation over ticks."""

    def __init__(self, config: EngineConfig | None = None, *,
                 tracker: CorrelationTracker | None = None) -> None:
        """Build an engine; ``tracker`` replaces the correlation tracker built from
        ``config.correlation`` (tests inject fakes through it).
        """
        self.config = cfg = config if config is not None else EngineConfig()
        self._states: dict[str, SymbolState] = {}
        self._changed: set[str] = set()
        self._rejected = dict.fromkeys(REJECT_REASONS, 0)
        self._accepted = 0
        self._late = 0  # accepted out-of-order ticks (moved to the symbol's last ts)
        self._events = 0
        self._now = -INF
        self._future_tol = INF if cfg.future_tolerance is None else cfg.future_tolerance
        self._tol = cfg.out_of_order_tolerance
        self._g = float(cfg.grid_step)
        self._id_memory = cfg.duplicate_id_memory
        if tracker is None:
            tracker = CorrelationTracker(CorrelationConfig.from_mapping(cfg.correlation))
        self._tracker = tracker
        self._observe = tracker.observe
        # Correlation is answered as of ``now - correlation_lag``: ingest shards that import
        # each other's grid samples (which arrive a second or two late) set it, so every
        # symbol of a matrix is complete up to the same cell. 0 in a single process.
        self.correlation_lag = 0.0

    # -- hot path ------------------------------------------------------------------------------

    def on_tick(self, tick: Tick) -> Sequence[StressEvent]:
        """Ingest one tick; return the stress events it triggered: a new list, or the
        shared empty tuple when nothing fires. Bad ticks are counted per reason and never
        change state.
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
            if not 0.0 < p < INF:
                reason = ("nan" if p != p else "inf" if p == INF or p == -INF
                          else "non_positive")
                self._rejected[reason] += 1
                return NO_EVENTS
            if not -INF < ts < INF:
                self._rejected["bad_ts"] += 1
                return NO_EVENTS
            if ts - tick.recv_ts > self._future_tol:
                # Exchange time far ahead of receipt time: a bogus timestamp that would
                # otherwise drag this symbol's windows into the future.
                self._rejected["future"] += 1
                return NO_EVENTS
        except TypeError:  # a non-numeric recv_ts
            self._rejected["invalid"] += 1
            return NO_EVENTS
        symbol = tick.symbol
        trade_id = tick.trade_id
        late = False
        try:
            st = self._states.get(symbol)
            if st is None:
                st = self._new_state(tick)
                if st is None:
                    return NO_EVENTS
                last_ts = -INF
            else:
                last_ts = st.last_ts
                if ts < last_ts:
                    if ts < last_ts - self._tol:
                        self._rejected["out_of_order"] += 1
                        return NO_EVENTS
                    ts = last_ts
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
        elif ts == last_ts and p == st.last and tick.size == st.last_size:
            self._rejected["duplicate"] += 1
            return NO_EVENTS
        if late:
            self._late += 1
        if ts > self._now:
            self._now = ts
        c = int(ts // self._g)
        spike = st.advance(c, ts) if c != st.cell else None
        st.last = p
        st.last_ts = ts
        st.last_size = tick.size
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

    def _new_state(self, tick: Tick) -> SymbolState | None:
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
        st = SymbolState(symbol, tick.asset, self.config)
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
        """Return counters: accepted, rejected per reason, late_accepted, symbols, events,
        and robust_clipped (jump-robust variance terms winsorised against the baseline).
        """
        return {"accepted": self._accepted, "rejected": dict(self._rejected),
                "late_accepted": self._late, "symbols": len(self._states),
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
