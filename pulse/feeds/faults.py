"""Dirty-data fault injection: turn a clean tick stream into the kinds of dirt real feeds send.

Pure and deterministic: the same input ticks, specs and seeds give the same output. Used by
``manage.py gen_ticks --faults``, ``bench/dirty_eval.py`` and the tests, to reproduce every
failure mode of "signals you can trust on dirty data" (README, docs/dirty-data.md).

A spec is ``KIND[:KEY=VALUE[:KEY=VALUE...]]``; several specs are separated by commas
(``parse_faults("bad_print:factor=10,gap:at=900:duration=600")``). Keys every kind takes:

- ``symbol``: the symbol hit (default: the first symbol in the stream; ``*``: every symbol).
- ``at``: seconds after the stream's first tick when the fault starts (default 600).
- ``seed``: seed of the fault's own random draws (default 0).

Point faults (``bad_print``, ``future``, ``late``, ``dup``, ``reuse_id``, ``burst``) hit the
first tick of the symbol at or after ``at``, then ``count - 1`` more times every ``every``
seconds (defaults 1 and 60); with ``rate=P`` instead, each of the symbol's ticks during
``duration`` seconds from ``at`` (default: to the end) is hit with probability P, drawn from
the fault's own ``random.Random(seed)``. Kinds and their own keys:

=============  ====================================================================
``bad_print``  an extra tick at ``factor`` x the price (default 10), or at ``price``
               (``1e300``, ``1e-300``, ``0``, ``-1``, ``nan``); with ``last=1`` (default)
               it is the last tick of its ``cell``-second grid cell (default 1 s).
``future``     an extra tick stamped ``ahead`` seconds (default 3500) after its receipt;
               ``blind=1``: without a receipt time (``recv_ts = ts``, as in a replay
               file), so only the stream's own clock can tell.
``late``       the tick is delivered ``delay`` seconds (default 1) after its timestamp,
               behind newer ticks, at its old price.
``dup``        an exact copy of the tick (same time, price, size and trade id).
``reuse_id``   the tick carries the previous tick's trade id (a genuine trade that a
               dedupe by id would drop).
``burst``      ``n`` extra ticks (default 200) at the tick's price over ``span`` s (1).
``gap``        the symbol's ticks are dropped for ``duration`` seconds (default 600).
``jump``       a genuine level shift: every later price x (1 + ``pct``/100) (pct 1.5).
``vol``        log returns x ``factor`` (default 3) for ``duration`` seconds (1200);
               the level reached is kept afterwards.
``skew``       exchange time shifted by ``offset`` seconds (default 5) for ``duration``
               (default: to the end); receipt time stays true.
``alias``      the symbol also ticks under asset class ``asset`` (default forex) at
               ``scale`` x the price (default 0.01), ``lag`` s later (default 0.25):
               one symbol name, two instruments.
``ids``        give every tick a trade id (1, 2, ... per symbol), as exchanges do.
``strip_ids``  remove trade ids (a provider without ids).
               (These two default to every symbol from the first tick.)
=============  ====================================================================

Injected and delayed ticks are delivered in receipt-time order (``recv_ts``) among the
stream's own ticks. :attr:`FaultInjector.injected` counts what each fault did.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from pulse.engine.tick import ASSET_CLASSES, Tick

ALL: Final = "*"
_COMMON: Final = {"symbol": str, "at": float, "seed": int}
_POINT: Final = {"count": int, "every": float, "rate": float, "duration": float}
# A time just below the next whole microsecond: real feeds stamp in microseconds, so a tick
# placed here comes after every genuine tick of its cell.
# (5e-7 s survives float rounding at epoch-second magnitudes, whose resolution is 2.4e-7.)
_CELL_END: Final = 5e-7


@dataclass(frozen=True)
class FaultSpec:
    """One parsed fault: its kind and its ``KEY=VALUE`` parameters (still text)."""

    kind: str
    params: Mapping[str, str]

    def __str__(self) -> str:
        return ":".join([self.kind, *(f"{k}={v}" for k, v in self.params.items())])


def parse_faults(text: str) -> list[FaultSpec]:
    """Return the specs of ``KIND[:K=V...]`` items separated by commas; raise ValueError
    naming the first bad item (unknown kind or key, malformed or invalid value).
    """
    specs = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        kind, *pairs = item.split(":")
        kind = kind.strip().lower()
        params: dict[str, str] = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ValueError(f"fault {item!r}: expected KEY=VALUE, got {pair!r}")
            params[key.strip().lower()] = value.strip()
        spec = FaultSpec(kind, params)
        build_fault(spec)  # validate now, with a message naming the item
        specs.append(spec)
    return specs


class _Out:
    """Where a fault sends ticks besides the one it is looking at: a receipt-time queue."""

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, Tick]] = []
        self._seq = itertools.count()

    def later(self, release: float, tick: Tick) -> None:
        """Deliver ``tick`` once the stream reaches receipt time ``release``."""
        heapq.heappush(self.heap, (release, next(self._seq), tick))

    def due(self, now: float) -> Iterator[Tick]:
        """Yield (and forget) the queued ticks released before ``now``: a tick released at
        the same receipt time as a genuine one comes after it."""
        heap = self.heap
        while heap and heap[0][0] < now:
            yield heapq.heappop(heap)[2]


def _copy(tick: Tick, **changes: Any) -> Tick:
    """Return a new tick equal to ``tick`` except for ``changes``."""
    fields = {name: getattr(tick, name) for name in Tick.__slots__}
    fields.update(changes)
    return Tick(fields.pop("symbol"), fields.pop("asset"), fields.pop("ts"),
                fields.pop("price"), **fields)


class Fault:
    """Base of every fault kind: parameters, symbol matching and the time window.

    Subclasses set ``kind`` and ``keys`` (their own parameters with defaults) and implement
    :meth:`hit`: given a tick of the symbol (possibly already changed by earlier faults)
    return the tick to deliver, or None to drop it.
    """

    kind: ClassVar[str] = ""
    keys: ClassVar[dict[str, Any]] = {}
    point: ClassVar[bool] = False  # hits chosen ticks (count/every or rate) vs every tick

    def __init__(self, spec: FaultSpec) -> None:
        types = {**_COMMON, **(_POINT if self.point else {"duration": float}),
                 **{k: type(v) for k, v in self.keys.items()}}
        unknown = sorted(set(spec.params) - set(types))
        if unknown:
            raise ValueError(f"fault {spec}: unknown key(s) {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(types))})")
        values: dict[str, Any] = {"symbol": None, "at": 600.0, "seed": 0, "count": 1,
                                  "every": 60.0, "rate": 0.0, "duration": math.inf,
                                  **self.keys}
        for key, text in spec.params.items():
            try:
                values[key] = types[key](float(text)) if types[key] is int else types[key](text)
            except ValueError:
                raise ValueError(f"fault {spec}: {key}={text!r} is not a "
                                 f"{types[key].__name__}") from None
        self.spec = spec
        self.symbol: str | None = values["symbol"]
        self.at: float = values["at"]
        self.duration: float = values["duration"]
        self.count: int = values["count"]
        self.every: float = values["every"]
        self.rate: float = values["rate"]
        self.values = values
        self.rng = random.Random(values["seed"])
        self.done = 0  # hits so far (point faults) / ticks changed (others)
        self._next = self.at
        if not (math.isfinite(self.at) and self.at >= 0):
            raise ValueError(f"fault {spec}: at must be a non-negative number of seconds")
        if not self.duration > 0:
            raise ValueError(f"fault {spec}: duration must be positive")
        if self.count < 1 or not self.every > 0 or not 0 <= self.rate <= 1:
            raise ValueError(f"fault {spec}: need count >= 1, every > 0, 0 <= rate <= 1")
        self.check()

    def check(self) -> None:
        """Raise ValueError for an invalid value of this kind's own keys."""

    def active(self, rel: float) -> bool:
        """Return True if a tick ``rel`` seconds after the stream start is in the window."""
        return self.at <= rel < self.at + self.duration

    def apply(self, tick: Tick, rel: float, out: _Out) -> Tick | None:
        """Apply this fault to ``tick`` (``rel`` s after the start) if it is concerned."""
        if self.symbol is not None and self.symbol != ALL and tick.symbol != self.symbol:
            return tick
        if not self.point:
            return self.hit(tick, rel, out) if self.active(rel) else self.idle(tick, rel)
        if self.rate > 0:
            if self.active(rel) and self.rng.random() < self.rate:
                self.done += 1
                return self.hit(tick, rel, out)
            return self.idle(tick, rel)
        if self.done < self.count and rel >= self._next:
            self.done += 1
            self._next = rel + self.every
            return self.hit(tick, rel, out)
        return self.idle(tick, rel)

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick | None:
        """Return the faulty version of ``tick`` (None drops it)."""
        raise NotImplementedError

    def idle(self, tick: Tick, rel: float) -> Tick:
        """Return ``tick`` outside the fault's window (stateful kinds track it here)."""
        return tick


class BadPrint(Fault):
    """One extra tick at an absurd price, by default the last of its grid cell."""

    kind = "bad_print"
    keys: ClassVar = {"factor": 10.0, "price": math.nan, "last": 1, "cell": 1.0}
    point = True

    def check(self) -> None:
        if not self.values["cell"] > 0:
            raise ValueError(f"fault {self.spec}: cell must be positive")

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        fixed = self.values["price"]
        price = fixed if "price" in self.spec.params else tick.price * self.values["factor"]
        if self.values["last"]:
            cell = self.values["cell"]
            ts = (math.floor(tick.ts / cell) + 1) * cell - _CELL_END
            recv = tick.recv_ts + (ts - tick.ts)
        else:
            ts, recv = tick.ts, tick.recv_ts
        out.later(recv, _copy(tick, ts=ts, recv_ts=recv, price=price, trade_id=None,
                              size=None if tick.size is None else tick.size + 1.0))
        return tick


class Future(Fault):
    """One extra tick stamped far ahead of its receipt time (a bad exchange clock)."""

    kind = "future"
    keys: ClassVar = {"ahead": 3500.0, "blind": 0}
    point = True

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        ts = tick.ts + self.values["ahead"]
        recv = ts if self.values["blind"] else tick.recv_ts
        out.later(tick.recv_ts, _copy(tick, ts=ts, recv_ts=recv, trade_id=None))
        return tick


class Late(Fault):
    """The tick arrives ``delay`` seconds after its own timestamp, behind newer ticks."""

    kind = "late"
    keys: ClassVar = {"delay": 1.0}
    point = True

    def check(self) -> None:
        if not self.values["delay"] > 0:
            raise ValueError(f"fault {self.spec}: delay must be positive")

    def hit(self, tick: Tick, rel: float, out: _Out) -> None:
        out.later(tick.recv_ts + self.values["delay"],
                  _copy(tick, recv_ts=tick.recv_ts + self.values["delay"]))
        return None


class Dup(Fault):
    """An exact copy of the tick right behind it (a replayed message)."""

    kind = "dup"
    point = True

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        out.later(tick.recv_ts, _copy(tick))
        return tick


class ReuseId(Fault):
    """The tick carries the symbol's previous trade id (a distinct trade, a repeated id)."""

    kind = "reuse_id"
    point = True

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(spec)
        self._last: dict[str, Any] = {}

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        previous = self._last.get(tick.symbol, tick.trade_id)
        return _copy(tick, trade_id=previous)

    def idle(self, tick: Tick, rel: float) -> Tick:
        self._last[tick.symbol] = tick.trade_id
        return tick


class Burst(Fault):
    """``n`` extra ticks at the tick's price within ``span`` seconds."""

    kind = "burst"
    keys: ClassVar = {"n": 200, "span": 1.0}
    point = True

    def check(self) -> None:
        if self.values["n"] < 1 or not self.values["span"] > 0:
            raise ValueError(f"fault {self.spec}: need n >= 1 and span > 0")

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        n, span = self.values["n"], self.values["span"]
        for i in range(n):
            dt = span * (i + 1) / (n + 1)
            out.later(tick.recv_ts + dt, _copy(tick, ts=tick.ts + dt, recv_ts=tick.recv_ts + dt,
                                               size=float(i + 1), trade_id=None))
        return tick


class Gap(Fault):
    """The symbol goes silent: its ticks are dropped during the window."""

    kind = "gap"
    keys: ClassVar = {}

    def __init__(self, spec: FaultSpec) -> None:
        if "duration" not in spec.params:
            spec = FaultSpec(spec.kind, {**spec.params, "duration": "600"})
        super().__init__(spec)

    def hit(self, tick: Tick, rel: float, out: _Out) -> None:
        self.done += 1
        return None


class _LevelFault(Fault):
    """Base of faults that move the price level: a per-symbol log offset applied to every
    later price (so the shift is genuine: it persists)."""

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(spec)
        self._offset: dict[str, float] = {}
        self._prev: dict[str, float] = {}

    def _shifted(self, tick: Tick, step: float) -> Tick:
        symbol = tick.symbol
        p = tick.price
        offset = self._offset.get(symbol, 0.0) + step
        self._offset[symbol] = offset
        if offset == 0.0:
            return tick
        return _copy(tick, price=p * math.exp(offset))

    def _log_step(self, tick: Tick) -> float:
        """Return the log return of ``tick`` against the symbol's previous input price."""
        p = tick.price
        prev = self._prev.get(tick.symbol)
        self._prev[tick.symbol] = p
        ok = prev is not None and prev > 0 and p > 0 and math.isfinite(p)
        return math.log(p / prev) if ok else 0.0

    def idle(self, tick: Tick, rel: float) -> Tick:
        self._log_step(tick)
        return self._shifted(tick, 0.0)


class Jump(_LevelFault):
    """A genuine level shift of ``pct`` percent at ``at``, kept afterwards."""

    kind = "jump"
    keys: ClassVar = {"pct": 1.5}

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(spec)
        self._applied: set[str] = set()

    def check(self) -> None:
        if not self.values["pct"] > -100:
            raise ValueError(f"fault {self.spec}: pct must be above -100")

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        self._log_step(tick)
        step = 0.0
        if tick.symbol not in self._applied:
            self._applied.add(tick.symbol)
            self.done += 1
            step = math.log1p(self.values["pct"] / 100.0)
        return self._shifted(tick, step)


class Vol(_LevelFault):
    """A volatility regime: log returns scaled by ``factor`` during the window."""

    kind = "vol"
    keys: ClassVar = {"factor": 3.0}

    def __init__(self, spec: FaultSpec) -> None:
        if "duration" not in spec.params:
            spec = FaultSpec(spec.kind, {**spec.params, "duration": "1200"})
        super().__init__(spec)

    def check(self) -> None:
        if not self.values["factor"] > 0:
            raise ValueError(f"fault {self.spec}: factor must be positive")

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        self.done += 1
        return self._shifted(tick, (self.values["factor"] - 1.0) * self._log_step(tick))


class Skew(Fault):
    """The exchange clock is off: timestamps shifted by ``offset`` s, receipt time true."""

    kind = "skew"
    keys: ClassVar = {"offset": 5.0}

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        self.done += 1
        return _copy(tick, ts=tick.ts + self.values["offset"])


class Alias(Fault):
    """The same symbol name also ticks as another instrument (another asset class)."""

    kind = "alias"
    keys: ClassVar = {"asset": "forex", "scale": 0.01, "lag": 0.25}

    def check(self) -> None:
        if self.values["asset"] not in ASSET_CLASSES:
            raise ValueError(f"fault {self.spec}: asset must be one of "
                             f"{', '.join(ASSET_CLASSES)}")
        if not self.values["scale"] > 0 or not self.values["lag"] >= 0:
            raise ValueError(f"fault {self.spec}: need scale > 0 and lag >= 0")

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        if tick.asset == self.values["asset"]:
            return tick
        lag = self.values["lag"]
        self.done += 1
        out.later(tick.recv_ts + lag, _copy(tick, asset=self.values["asset"], ts=tick.ts + lag,
                                            recv_ts=tick.recv_ts + lag, trade_id=None,
                                            price=tick.price * self.values["scale"]))
        return tick


def _whole_stream(spec: FaultSpec) -> FaultSpec:
    """Return ``spec`` defaulting to every symbol from the first tick (``ids``, ``strip_ids``)."""
    return FaultSpec(spec.kind, {"symbol": ALL, "at": "0", **spec.params})


class Ids(Fault):
    """Every tick gets a trade id, counting from 1 per symbol."""

    kind = "ids"

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(_whole_stream(spec))
        self._ids: Counter[str] = Counter()

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        self._ids[tick.symbol] += 1
        self.done += 1
        return _copy(tick, trade_id=self._ids[tick.symbol])


class StripIds(Fault):
    """Trade ids removed, as from a provider that sends none."""

    kind = "strip_ids"

    def __init__(self, spec: FaultSpec) -> None:
        super().__init__(_whole_stream(spec))

    def hit(self, tick: Tick, rel: float, out: _Out) -> Tick:
        if tick.trade_id is None:
            return tick
        self.done += 1
        return _copy(tick, trade_id=None)


KINDS: Final[dict[str, type[Fault]]] = {
    cls.kind: cls for cls in (BadPrint, Future, Late, Dup, ReuseId, Burst, Gap, Jump, Vol,
                              Skew, Alias, Ids, StripIds)
}


def describe_kinds() -> str:
    """Return a one-paragraph summary of the spec syntax, every kind and its keys (for
    ``--help``), generated from the classes so it cannot drift from them."""
    def key_text(value: Any) -> str:
        if isinstance(value, float):
            return "X" if math.isnan(value) else f"{value:g}"  # NaN: a key without default
        return str(value)

    kinds = []
    for kind, cls in KINDS.items():
        keys = ", ".join(f"{k}={key_text(v)}" for k, v in cls.keys.items())
        kinds.append(f"{kind}({keys})" if keys else kind)
    return ("KIND[:KEY=VALUE...], several separated by commas. Every kind takes symbol "
            "(default: the first symbol; * = all), at (seconds after the first tick, "
            "default 600) and seed (0); point faults (bad_print, future, late, dup, "
            "reuse_id, burst) also count=1, every=60, or rate=P with duration. Kinds and "
            "their keys: " + "; ".join(kinds) + ". gap and vol also take duration "
            "(600, 1200).")


def build_fault(spec: FaultSpec) -> Fault:
    """Return a fresh fault for ``spec``; raise ValueError for an unknown kind or bad key."""
    cls = KINDS.get(spec.kind)
    if cls is None:
        raise ValueError(f"unknown fault {spec.kind!r} (known: {', '.join(sorted(KINDS))})")
    return cls(spec)


class FaultInjector:
    """Apply faults, in the order given, to a stream of ticks in receipt-time order."""

    def __init__(self, specs: Iterable[FaultSpec | str]) -> None:
        parsed: list[FaultSpec] = []
        for spec in specs:
            parsed.extend(parse_faults(spec) if isinstance(spec, str) else [spec])
        self.faults = [build_fault(spec) for spec in parsed]

    @property
    def injected(self) -> dict[str, int]:
        """Return how many ticks each fault hit, keyed by its spec text."""
        return {str(f.spec): f.done for f in self.faults}

    def apply(self, ticks: Iterable[Tick]) -> Iterator[Tick]:
        """Yield ``ticks`` with the faults applied, plus injected and delayed ticks."""
        out = _Out()
        faults = self.faults
        start: float | None = None
        first_symbol: str | None = None
        for tick in ticks:
            if start is None:
                start, first_symbol = tick.recv_ts, tick.symbol
                for fault in faults:
                    if fault.symbol is None:
                        fault.symbol = first_symbol
            yield from out.due(tick.recv_ts)
            rel = tick.recv_ts - start
            current: Tick | None = tick
            for fault in faults:
                current = fault.apply(current, rel, out)
                if current is None:
                    break
            if current is not None:
                yield current
        while out.heap:
            yield heapq.heappop(out.heap)[2]
