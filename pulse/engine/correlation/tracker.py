"""The correlation tracker the engine facade feeds every tick and asks for matrices.

``observe`` only records the last price and time of the symbol (and closes grid cells when
a cell boundary passes); matrices come from rolling sums that are brought up to date by the
cells closed since the previous query, so a refresh costs O(pairs x new cells), not
O(window). Event time only: ``now`` comes from the caller, never from the wall clock.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulse.engine.correlation.book import (
    FLAT,
    INSUFFICIENT,
    OK,
    OUT_OF_RANGE,
    UNKNOWN,
    Book,
    Estimate,
)
from pulse.engine.correlation.config import (
    BUCKETED,
    GRID,
    KERNEL,
    METHODS,
    RAW_HY,
    CorrelationConfig,
    steps_per_cell,
)
from pulse.engine.correlation.grid import SymbolGrid
from pulse.engine.correlation.hayashi_yoshida import dedupe_times, hy_correlation
from pulse.engine.correlation.kernel import choose_horizon
from pulse.engine.correlation.uncertainty import corr_stderr

_INF = math.inf
# Slack for "window / step" landing a hair above a whole number in floating point.
_CEIL_SLACK = 1e-9


# Longest bucket a query may ask for: the tutorial's control offers 10/20/30 s. The grid
# ring keeps four buckets of slack beyond the longest window, so this bounds memory too.
MAX_BUCKET_SECONDS = 30.0


class CorrelationTracker:
    """Rolling correlations of asynchronously ticking symbols, by event time.

    >>> t = CorrelationTracker()
    >>> t.observe("BTC", 0.5, 100.0)
    >>> t.matrix(["BTC", "XYZ"], now=1.0)["status"][1][1]
    'unknown_symbol'
    """

    def __init__(self, config: CorrelationConfig | None = None) -> None:
        """Create an empty tracker; symbols appear with their first observed tick."""
        self.config = config or CorrelationConfig()
        cfg = self.config
        self._step = cfg.grid_step
        k_max = max(cfg.step_cells(GRID), cfg.step_cells(BUCKETED),
                    math.ceil(MAX_BUCKET_SECONDS / cfg.grid_step))
        # The window, the sample before it and the bucketed method's "previous bucket",
        # plus slack for symbols whose ticks run a little ahead of the query time.
        # The kernel reads its horizon before the window and its interpolation gap after.
        slack = max(4 * k_max, max(cfg.horizon_cells()) + cfg.gap_cells() + 4)
        self._capacity = math.ceil(cfg.max_window / cfg.grid_step - _CEIL_SLACK) + slack + 2
        self._grids: dict[str, SymbolGrid] = {}
        self._books: OrderedDict[tuple[str, int, int], Book] = OrderedDict()
        # Symbols whose samples come from another process (import_samples): last cell placed.
        self._imported: dict[str, int] = {}
        self.late_samples = 0  # imported samples for cells already closed here (dropped)

    def observe(self, symbol: str, ts: float, price: float) -> None:
        """Record one tick: O(1), and cheap unless a grid cell boundary has passed.

        Non-finite or non-positive inputs are ignored (the engine rejects and counts them
        before they get here); a tick a little older than the symbol's previous one is
        taken as simultaneous with it so that sample times never run backwards.
        """
        if not (0.0 < price < _INF and -_INF < ts < _INF):
            return
        g = self._grids.get(symbol)
        if g is None:
            self._grids[symbol] = SymbolGrid(self._step, self._capacity, ts, price,
                                             self.config.raw_tick_capacity)
            return
        if ts >= g.end:
            g.roll(ts)
        elif ts < g.ts:
            ts = g.ts
        g.price = price
        g.ts = ts
        if g.raw is not None:
            g.raw.append((ts, price))

    def matrix(self, symbols: Sequence[str], now: float, *, window: float | None = None,
               method: str | None = None,
               bucket_seconds: float | None = None) -> dict[str, Any]:
        """Return the JSON-ready correlation matrix of ``symbols`` over the window ending now.

        Every pair is reported: a number with the coverage it rests on and its standard
        error, or None with the reason (``insufficient_overlap``, ``unknown_symbol``,
        ``flat``, ``out_of_range`` for the unbounded comparison methods). With the default
        ``kernel`` method the matrix is positive semi-definite and the answer also names
        the return ``horizon`` and the ``delay`` (seconds) its window ends before ``now``.
        """
        names = list(symbols)
        method, window, book, last_cell = self._prepare(names, now, window, method,
                                                        bucket_seconds)
        size = len(names)
        corr: list[list[float | None]] = [[None] * size for _ in range(size)]
        coverage = [[0] * size for _ in range(size)]
        status = [[UNKNOWN] * size for _ in range(size)]
        stderr: list[list[float | None]] = [[None] * size for _ in range(size)]
        grids = [self._grids.get(name) for name in names]
        estimate = self._estimator(book, window, last_cell, now)
        for i, a in enumerate(names):
            ga = grids[i]
            if ga is None:
                continue  # the whole row stays None / 0 / unknown_symbol
            for j in range(i, size):
                gb = grids[j]
                if gb is not None:
                    value, cov, why, se = estimate(a, names[j], ga, gb)
                    corr[i][j] = corr[j][i] = value
                    coverage[i][j] = coverage[j][i] = cov
                    status[i][j] = status[j][i] = why
                    stderr[i][j] = stderr[j][i] = se
        result = {"symbols": names, "matrix": corr, "coverage": coverage, "status": status,
                  "stderr": stderr, "method": method, "window": window, "as_of": now}
        if book is not None and method == BUCKETED:
            result["bucket_seconds"] = book.k * self._step
        if book is not None and method == KERNEL:
            result["horizon"] = book.horizon * self._step
            result["delay"] = book.gap * self._step
        return result

    def top_k(self, base: str, symbols: Sequence[str], now: float, k: int = 3, *,
              window: float | None = None, method: str | None = None,
              bucket_seconds: float | None = None) -> list[dict[str, Any]]:
        """Return up to ``k`` symbols most correlated with ``base``, highest first.

        The base itself and pairs without a number are left out; ties break by symbol name
        so the order is deterministic.
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise ValueError(f"k: expected a non-negative integer, got {k!r}")
        others = [s for s in dict.fromkeys(symbols) if s != base]
        method, window, book, last_cell = self._prepare([base, *others], now, window, method,
                                                        bucket_seconds)
        found: list[dict[str, Any]] = []
        g_base = self._grids.get(base)
        if g_base is None:
            return found
        estimate = self._estimator(book, window, last_cell, now)
        for s in others:
            g = self._grids.get(s)
            if g is None:
                continue
            value, cov, _, se = estimate(base, s, g_base, g)
            if value is not None:
                found.append({"symbol": s, "corr": value, "coverage": cov, "stderr": se})
        found.sort(key=lambda row: (-row["corr"], row["symbol"]))
        return found[:k]

    def export_samples(self, symbols: Iterable[str], now: float,
                       after: Mapping[str, int]) -> tuple[int, dict[str, list]]:
        """Close the grids of ``symbols`` through the last cell ending by ``now`` and return
        ``(that cell, {symbol: [(cell, time, price), ...]})``: each symbol's changed samples
        after ``after[symbol]`` (all readable ones if absent). See ``import_samples``.
        """
        through = int(now // self._step) - 1
        out: dict[str, list] = {}
        for name in symbols:
            g = self._grids.get(name)
            if g is None:
                continue
            if g.cell <= through:
                g.close_through(through)
            out[name] = g.samples_after(after.get(name, g.first_cell - 1))
        return through, out

    def import_samples(self, symbol: str, samples: Iterable[Sequence[float]]) -> int:
        """Place another process's samples of ``symbol`` (from ``export_samples``), oldest
        first; cells already placed are skipped (senders repeat a few for lost messages),
        cells already closed here are dropped and counted in ``late_samples``. Returns how
        many were placed. Only for symbols this tracker does not observe itself.
        """
        g = self._grids.get(symbol)
        last = self._imported.get(symbol)
        placed = 0
        for cell, ts, price in samples:
            cell = int(cell)
            if last is not None and cell <= last:
                continue
            if not (0.0 < price < _INF and -_INF < ts < _INF):
                continue
            if g is None:
                g = self._grids[symbol] = SymbolGrid(self._step, self._capacity, ts, price,
                                                     cell=cell)
            elif not g.place(cell, ts, price):
                self.late_samples += 1
                continue
            last = cell
            placed += 1
        if last is not None:
            self._imported[symbol] = last
        return placed

    def forget(self, symbol: str) -> None:
        """Drop ``symbol``'s grid and rolling sums; its next tick starts a fresh grid.

        The engine calls this when it restarts a symbol (a clock reset after a bogus
        timestamp, or a re-anchor after a bad first print): the old grid holds the bogus
        time or price, and a grid cannot go back in time, so without this the symbol's
        samples would stall until event time caught up with the bogus one.
        """
        self._grids.pop(symbol, None)
        self._imported.pop(symbol, None)
        for book in self._books.values():
            book.forget(symbol)

    def symbols(self) -> list[str]:
        """Return every symbol with a grid (observed here or imported), sorted."""
        return sorted(self._grids)

    def bytes_per_symbol(self) -> int:
        """Return the bytes of grid storage each symbol holds (excluding the raw-tick deque)."""
        return 16 * self._capacity

    def history(self, symbol: str, seconds: float = 3600.0, step: float = 10.0,
                max_points: int = 720) -> list[list[float]]:
        """Return ``[[ts, price], ...]`` of ``symbol`` over the last ``seconds``, oldest first.

        Points are the closes of ``step``-second cells (previous-tick price at the cell end)
        aligned on multiples of ``step`` (so repeated requests share timestamps), followed by
        the latest tick. ``step`` is widened so that at most ``max_points`` come back; an
        unknown symbol gives ``[]``. Reads the grid the tracker keeps anyway: no extra state.
        """
        g = self._grids.get(symbol)
        if g is None:
            return []
        seconds = max(1.0, float(seconds))
        step = max(float(step), g.step, seconds / max_points)
        k = max(1, round(step / g.step))
        last = g.closed
        first = max(g.oldest(), last - math.ceil(seconds / g.step) + 1)
        cap = g.capacity
        start = -(-first // k) * k + k - 1
        points = [[(f + 1) * g.step, round(math.exp(g.logp[f % cap]), 10)]
                  for f in range(start, last + 1, k)]
        if g.price > 0 and (not points or g.ts > points[-1][0]):
            points.append([g.ts, g.price])
        return points

    def _prepare(self, symbols: Iterable[str], now: float, window: float | None,
                 method: str | None,
                 bucket_seconds: float | None = None) -> tuple[str, float, Book | None, int]:
        """Validate a query, close the grids of its symbols up to ``now`` and pick the book.

        ``bucket_seconds`` overrides the configured bucket of the ``bucketed`` method for
        this query (a whole number of grid cells, at most ``MAX_BUCKET_SECONDS``); each
        bucket size keeps its own book. Return (method, effective window in seconds, book or
        None for ``hy``, last closed grid cell).
        """
        cfg = self.config
        if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
            raise ValueError(f"now: expected a finite event time, got {now!r}")
        method = cfg.method if method is None else method
        if method not in METHODS:
            raise ValueError(f"method: unknown {method!r} (use one of {', '.join(METHODS)})")
        if method == RAW_HY and cfg.raw_tick_capacity == 0:
            raise ValueError("method: 'hy' needs raw_tick_capacity > 0 in the config")
        window = cfg.window if window is None else window
        if (isinstance(window, bool) or not isinstance(window, int | float)
                or not math.isfinite(window) or window <= 0):
            raise ValueError(f"window: expected a positive number of seconds, got {window!r}")
        window = min(float(window), cfg.max_window)
        last_cell = int(now // self._step) - 1
        known = [(name, g) for name in dict.fromkeys(symbols)
                 if (g := self._grids.get(name)) is not None]
        for _, g in known:
            if g.cell <= last_cell:
                g.close_through(last_cell)
        if method == RAW_HY:
            return method, window, None, last_cell
        k = cfg.step_cells(method)
        if bucket_seconds is not None and method == BUCKETED:
            if (isinstance(bucket_seconds, bool) or not isinstance(bucket_seconds, int | float)
                    or not 0 < bucket_seconds <= MAX_BUCKET_SECONDS):
                raise ValueError(f"bucket_seconds: expected 0 < seconds <= "
                                 f"{MAX_BUCKET_SECONDS:g}, got {bucket_seconds!r}")
            k = steps_per_cell(float(bucket_seconds), self._step, "bucket_seconds")
        span = k * self._step
        cells = max(2, math.ceil(window / span - _CEIL_SLACK))
        if method == KERNEL:
            return method, cells * span, self._kernel_book(known, cells, last_cell), last_cell
        book = self._book(method, k, cells)
        book.begin_query()
        last = (last_cell + 1) // k - 1
        for name, g in known:
            book.sync_symbol(name, g, last)
        return method, cells * span, book, last_cell

    def _kernel_book(self, known: list[tuple[str, SymbolGrid]], cells: int,
                     last_cell: int) -> Book:
        """Return the kernel book for this query's horizon, its symbols synced.

        The horizon follows the slowest symbol that has enough observations in the window
        to get a number at all (``kernel.choose_horizon``); the observation counts come
        from the shortest horizon's book, which every kernel query keeps up to date.
        """
        cfg = self.config
        horizons = cfg.horizon_cells()
        gap = cfg.gap_cells()
        last = last_cell - gap
        book = self._book(KERNEL, 1, cells, horizons[0], gap)
        book.begin_query()
        slowest = None
        for name, g in known:
            n = book.sync_symbol(name, g, last).sums[0]
            if n >= cfg.min_overlap:
                # Time between observations over the part of the window the symbol existed.
                mean_gap = min(cells, last - g.first_cell + 1) * self._step / n
                slowest = mean_gap if slowest is None else max(slowest, mean_gap)
        horizon = choose_horizon(horizons, slowest, self._step)
        if horizon == horizons[0]:
            return book
        book = self._book(KERNEL, 1, cells, horizon, gap)
        book.begin_query()
        for name, g in known:
            book.sync_symbol(name, g, last)
        return book

    def _book(self, method: str, k: int, cells: int, horizon: int = 0, gap: int = 0) -> Book:
        """Return the book for (method, k, cells, horizon), dropping the least recently
        used extra."""
        key = (method, k, cells, horizon)
        book = self._books.get(key)
        if book is None:
            book = self._books[key] = Book(method, k, cells, horizon, gap)
            while len(self._books) > self.config.max_books:
                self._books.popitem(last=False)
        else:
            self._books.move_to_end(key)
        return book

    def _estimator(self, book: Book | None, window: float, last_cell: int,
                   now: float) -> Callable[[str, str, SymbolGrid, SymbolGrid], Estimate]:
        """Return a function giving (correlation, coverage, status) of two known symbols."""
        if book is None:
            def raw(a: str, b: str, ga: SymbolGrid, gb: SymbolGrid) -> Estimate:
                return self._raw_estimate(ga, gb, a == b, now, window)

            return raw
        last = (last_cell + 1) // book.k - 1 - book.gap
        min_overlap = self.config.min_overlap
        book_estimate = book.estimate

        def on_grid(a: str, b: str, ga: SymbolGrid, gb: SymbolGrid) -> Estimate:
            if a == b:
                return 1.0, book.own_coverage(a), OK, 0.0
            if b < a:  # one set of sums per unordered pair
                return book_estimate(b, a, gb, ga, last, min_overlap)
            return book_estimate(a, b, ga, gb, last, min_overlap)

        return on_grid

    def _raw_estimate(self, ga: SymbolGrid, gb: SymbolGrid, same: bool, now: float,
                      window: float) -> Estimate:
        """Return the raw-tick Hayashi-Yoshida estimate over ``(now - window, now]``."""
        start = now - window
        xs = dedupe_times([(t, math.log(p)) for t, p in ga.raw or () if start < t <= now])
        if same:
            return 1.0, max(0, len(xs) - 1), OK, 0.0
        ys = dedupe_times([(t, math.log(p)) for t, p in gb.raw or () if start < t <= now])
        coverage = max(0, min(len(xs), len(ys)) - 1)
        if coverage < self.config.min_overlap:
            return None, coverage, INSUFFICIENT, None
        value = hy_correlation(xs, ys)
        if value is None:
            return None, coverage, FLAT, None
        if not math.isfinite(value):
            return None, coverage, INSUFFICIENT, None
        if abs(value) > 1.0 + 1e-9:
            return None, coverage, OUT_OF_RANGE, None
        value = max(-1.0, min(1.0, value))
        return value, coverage, OK, corr_stderr(value, coverage)
