"""Recorded ticks in and out: fast file readers, a time merge, a writer and :class:`ReplayFeed`.

Two input formats:

* ``ticks``: NDJSON written by :func:`write_ticks` (and ``gen_ticks``), one object per line
  ``{"symbol","asset","ts","price"}`` with optional ``bid``, ``ask``, ``size`` and
  ``recv_ts``. Times are epoch seconds; values above 1e11 are taken as epoch milliseconds
  (1e11 s is the year 5138, 1e11 ms is 1973). Numbers must be JSON numbers, not strings.
* ``binance``: Binance combined-stream recordings, ``<local_receive_ns> <json>`` per line;
  each ``@trade`` message becomes one tick, other streams are ignored.

Files ending in ``.gz`` are gzip. Readers never raise for bad data: a bad line is counted in
``stats.parse_failures`` by reason and skipped. A line whose price or time is not a finite
positive number is counted as ``bad_price``/``bad_ts`` here rather than passed on, so the
engine only ever sees plausible ticks from a file. Each file is also checked against its own
clock before files are merged (:mod:`pulse.feeds.stream_clock`): absurd times are ``bad_ts``,
ticks far ahead of the stream are dropped (``clock_skew``) unless the next lines confirm a
genuine gap (``clock_resets``).
"""

from __future__ import annotations

import asyncio
import collections
import gzip
import heapq
import math
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import IO, Any, Final

import orjson

from pulse.engine.tick import ASSET_CLASSES, CRYPTO, Tick
from pulse.feeds.base import Feed, FeedConfigError, FeedCounters, FeedState, SymbolRef, TickQueue
from pulse.feeds.stream_clock import follow_clock

FORMATS: Final = ("ticks", "binance")
MAX_LINE: Final = 64 * 1024  # longer lines are hostile or corrupt: counted, never parsed
MS_THRESHOLD: Final = 1e11  # a time above this is in epoch milliseconds
_NUMBER: Final = (int, float)  # exact types: bool is an int subclass and must not pass
_BATCH: Final = 2_000  # ReplayFeed yields to the event loop at least this often (ticks)


@dataclass
class ReplayStats(FeedCounters):
    """Feed counters plus what a reader skipped on purpose.

    ``messages`` counts non-empty lines read, ``parse_failures`` bad lines by reason,
    ``ignored`` well-formed lines that are not ticks (Binance bookTicker/depth) by kind, and
    ``gaps``/``duplicates`` trade-id jumps and repeats. Readers leave ``ticks`` to
    :meth:`Feed.emit`.
    """

    ignored: collections.Counter[str] = field(default_factory=collections.Counter)

    def as_dict(self, now: float | None = None) -> dict[str, Any]:
        """Return the counters as JSON-ready data, with ``ignored`` included."""
        data = super().as_dict(now)
        data["ignored"] = dict(self.ignored)
        return data


def _open(path: str | Path) -> IO[bytes]:
    """Open ``path`` for binary reading, through gzip when it ends in ``.gz``."""
    return gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")


def _lines(handle: IO[bytes], stats: FeedCounters) -> Iterator[bytes]:
    """Yield the non-empty lines of ``handle``; count and skip lines over MAX_LINE bytes.

    Reading in ``MAX_LINE`` pieces keeps memory bounded even for a gigabyte with no newline.
    A truncated or corrupt gzip stream (a recorder killed mid-write) ends the file with one
    ``truncated_file`` or ``unreadable_file`` failure instead of an exception.
    """
    readline = handle.readline
    while True:
        try:
            line = readline(MAX_LINE)
            if len(line) == MAX_LINE and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):  # discard the rest of the long line
                    line = readline(MAX_LINE)
                stats.messages += 1
                stats.parse_failures["line_too_long"] += 1
                continue
        except EOFError:
            stats.parse_failures["truncated_file"] += 1
            return
        except (OSError, zlib.error):
            stats.parse_failures["unreadable_file"] += 1
            return
        if not line:
            return
        if line.isspace():
            continue
        stats.messages += 1
        yield line


def _seconds(value: float) -> float:
    """Return an epoch time in seconds from seconds or milliseconds (see module docstring)."""
    return value / 1000.0 if value > MS_THRESHOLD else float(value)


def _finite_positive(value: Any) -> bool:
    """Return True for an int or float (not bool) that is finite and above zero."""
    return type(value) in _NUMBER and 0 < value < math.inf


def read_ticks(path: str | Path, stats: FeedCounters | None = None, *,
               provider: str = "replay") -> Iterator[Tick]:
    """Yield the ticks of an NDJSON tick file (see :func:`_parse_ticks`), time-checked.

    Every file is checked against its own clock (:func:`~pulse.feeds.stream_clock.follow_clock`:
    absurd times are ``bad_ts``, ticks far ahead of the stream are held until confirmed,
    else counted in ``clock_skew``).
    """
    stats = ReplayStats() if stats is None else stats
    return follow_clock(_parse_ticks(path, stats, provider=provider), stats)


def read_binance(path: str | Path, stats: FeedCounters | None = None, *,
                 provider: str = "binance") -> Iterator[Tick]:
    """Yield the trades of a Binance recording (see :func:`_parse_binance`), time-checked.

    Checked against the file's own clock like :func:`read_ticks`.
    """
    stats = ReplayStats() if stats is None else stats
    return follow_clock(_parse_binance(path, stats, provider=provider), stats)


def _parse_ticks(path: str | Path, stats: FeedCounters | None = None, *,
                 provider: str = "replay") -> Iterator[Tick]:
    """Yield the ticks of an NDJSON tick file in file order; count bad lines in ``stats``.

    Failure reasons: ``bad_json``, ``not_object``, ``missing_field``, ``bad_type`` (wrong
    JSON type, including numbers sent as strings), ``unknown_asset``, ``bad_ts``,
    ``bad_price``, ``line_too_long``, ``asset_mismatch``. Blank lines are skipped silently.

    A symbol names one instrument (docs/instruments.md): a line giving a symbol another asset
    class than the first line of this file that named it is counted as ``asset_mismatch``
    and skipped, so one stream is never mixed into another's state (across files, the
    engine's own ``asset_mismatch`` check applies).
    """
    stats = ReplayStats() if stats is None else stats
    failures = stats.parse_failures
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    assets = frozenset(ASSET_CLASSES)
    classes: dict[str, str] = {}  # symbol -> the asset class this file first gave it
    first_class = classes.setdefault  # one dict call per line: about 0.1 us
    with _open(path) as handle:
        for line in _lines(handle, stats):
            try:
                obj = loads(line)
            except decode_error:
                failures["bad_json"] += 1
                continue
            if type(obj) is not dict:
                failures["not_object"] += 1
                continue
            symbol = obj.get("symbol")
            asset = obj.get("asset")
            ts = obj.get("ts")
            price = obj.get("price")
            if symbol is None or asset is None or ts is None or price is None:
                failures["missing_field"] += 1
                continue
            if type(symbol) is not str or type(asset) is not str or not symbol:
                failures["bad_type"] += 1
                continue
            if asset not in assets:
                failures["unknown_asset"] += 1
                continue
            if type(ts) not in _NUMBER or type(price) not in _NUMBER:
                failures["bad_type"] += 1
                continue
            if not 0 < ts < math.inf:
                failures["bad_ts"] += 1
                continue
            if not 0 < price < math.inf:
                failures["bad_price"] += 1
                continue
            bid = obj.get("bid")
            ask = obj.get("ask")
            size = obj.get("size")
            recv_ts = obj.get("recv_ts")
            if ((bid is not None and type(bid) not in _NUMBER)
                    or (ask is not None and type(ask) not in _NUMBER)
                    or (size is not None and type(size) not in _NUMBER)
                    or (recv_ts is not None and not _finite_positive(recv_ts))):
                failures["bad_type"] += 1
                continue
            if first_class(symbol, asset) != asset:
                failures["asset_mismatch"] += 1
                continue
            ts = _seconds(ts)
            yield Tick(symbol, asset, ts, float(price),
                       recv_ts=ts if recv_ts is None else _seconds(recv_ts),
                       bid=bid, ask=ask, size=size, provider=provider)


def _parse_binance(path: str | Path, stats: FeedCounters | None = None, *,
                   provider: str = "binance") -> Iterator[Tick]:
    """Yield one tick per trade message of a Binance combined-stream recording.

    A line is ``<local_receive_ns> <json>``, for example::

        1723161254087896568 {"stream":"btcusdt@trade","data":{"e":"trade",
            "E":1723161255343,   # event time, ms
            "s":"BTCUSDT",       # symbol -> Tick.symbol (asset crypto)
            "t":3735683259,      # trade id, contiguous per symbol -> Tick.trade_id
            "p":"61837.63000000", "q":"0.02000000",  # price, size as strings
            "T":1723161255342,   # trade time, ms -> Tick.ts
            "m":true, "M":true}}

    ``recv_ts`` is the local receive time. Other streams (bookTicker, depth) and REST
    snapshots are counted in ``stats.ignored`` when ``stats`` is a :class:`ReplayStats`.
    A trade id above the previous one plus one counts a gap; a repeated or older id counts
    a duplicate and is skipped. Failure reasons: ``bad_stamp``, ``bad_json``, ``not_object``,
    ``missing_field``, ``bad_number``, ``bad_type``, ``bad_price``, ``line_too_long``.
    """
    stats = ReplayStats() if stats is None else stats
    failures = stats.parse_failures
    # Plain FeedCounters have nowhere to count ignored lines; ReplayStats does.
    ignored: collections.Counter[str] | None = getattr(stats, "ignored", None)
    if ignored is None:
        ignored = collections.Counter()
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    last_id: dict[str, int] = {}
    with _open(path) as handle:
        for line in _lines(handle, stats):
            stamp, _, body = line.partition(b" ")
            try:
                recv_ts = int(stamp) / 1e9
            except ValueError:
                failures["bad_stamp"] += 1
                continue
            try:
                msg = loads(body)
            except decode_error:
                failures["bad_json"] += 1
                continue
            stream = msg.get("stream") if type(msg) is dict else None
            if type(stream) is not str:
                ignored["no_stream"] += 1
                continue
            kind = stream.partition("@")[2]
            if kind != "trade":
                ignored[kind or "unknown"] += 1
                continue
            tick = _binance_trade(msg.get("data"), recv_ts, provider, stats)
            if tick is None:
                continue
            previous = last_id.get(tick.symbol)
            trade_id = tick.trade_id
            if previous is not None:
                if trade_id <= previous:  # type: ignore[operator]
                    stats.duplicates += 1
                    continue
                if trade_id != previous + 1:
                    stats.gaps += 1
            last_id[tick.symbol] = trade_id  # type: ignore[assignment]
            stats.note_offset(recv_ts, tick.ts)
            yield tick


def _binance_trade(data: Any, recv_ts: float, provider: str,
                   stats: FeedCounters) -> Tick | None:
    """Return the tick of one Binance trade payload, or None (counted) if it is malformed."""
    if type(data) is not dict:
        stats.parse_failures["not_object"] += 1
        return None
    try:
        symbol, trade_id, trade_ms = data["s"], data["t"], data["T"]
        price, size = float(data["p"]), float(data["q"])
    except KeyError:
        stats.parse_failures["missing_field"] += 1
        return None
    except (TypeError, ValueError):
        stats.parse_failures["bad_number"] += 1
        return None
    if type(symbol) is not str or not symbol or type(trade_id) is not int \
            or type(trade_ms) not in _NUMBER:
        stats.parse_failures["bad_type"] += 1
        return None
    if not (0 < price < math.inf and 0 <= size < math.inf and 0 < trade_ms < math.inf):
        stats.parse_failures["bad_price"] += 1
        return None
    return Tick(symbol, CRYPTO, trade_ms / 1000.0, price, recv_ts=recv_ts, size=size,
                provider=provider, trade_id=trade_id)


def merge_by_time(iterables: Iterable[Iterable[Tick]]) -> Iterator[Tick]:
    """Merge tick streams that are each in time order into one stream ordered by ``ts``.

    Ties keep the order of ``iterables``. Lazy: it holds one tick per stream.
    """
    return heapq.merge(*iterables, key=attrgetter("ts"))


def _create(path: str | Path) -> IO[bytes]:
    """Open ``path`` for binary writing, through gzip when it ends in ``.gz``."""
    # Level 5 is about twice as fast as gzip's default 9 for files a few percent larger.
    if str(path).endswith(".gz"):
        return gzip.open(path, "wb", compresslevel=5)
    return open(path, "wb")


def _tick_record(tick: Tick) -> dict[str, Any]:
    """Return the NDJSON object of ``tick``, leaving out empty optional fields."""
    record: dict[str, Any] = {"symbol": tick.symbol, "asset": tick.asset, "ts": tick.ts,
                              "price": tick.price}
    if tick.bid is not None:
        record["bid"] = tick.bid
    if tick.ask is not None:
        record["ask"] = tick.ask
    if tick.size is not None:
        record["size"] = tick.size
    if tick.recv_ts != tick.ts:
        record["recv_ts"] = tick.recv_ts
    return record


def write_ticks(path: str | Path, ticks: Iterable[Tick]) -> int:
    """Write ``ticks`` as NDJSON to ``path`` (gzip when it ends in ``.gz``); return the count.

    The output reads back with :func:`read_ticks` into equal ticks (provider and trade id
    aside). Lines are written in chunks so a million ticks do not become a million writes.
    """
    dumps = orjson.dumps
    count = 0
    with _create(path) as handle:
        chunk: list[bytes] = []
        for tick in ticks:
            chunk.append(dumps(_tick_record(tick)))
            count += 1
            if len(chunk) >= 10_000:
                chunk.append(b"")
                handle.write(b"\n".join(chunk))
                chunk.clear()
        if chunk:
            chunk.append(b"")
            handle.write(b"\n".join(chunk))
    return count


def open_replay(paths: Iterable[str | Path], fmt: str,
                stats: FeedCounters) -> Iterator[Tick]:
    """Return the merged tick stream of ``paths`` read in format ``fmt``."""
    reader = read_binance if fmt == "binance" else read_ticks
    streams = [reader(path, stats) for path in paths]
    return streams[0] if len(streams) == 1 else merge_by_time(streams)


class ReplayFeed(Feed):
    """Replay recorded files as a feed, for ``runpulse --feed replay`` and tests.

    Options: ``paths`` (a list or a comma-separated string), ``format`` (``"ticks"`` or
    ``"binance"``), ``speed`` (None or ``"max"``: as fast as the engine drains the queue;
    a positive number: event time runs at that multiple of wall time) and ``only_symbols``
    (default False: replay every symbol in the files; True: only ``symbols``). Ticks keep
    their recorded ``ts`` and ``recv_ts``. At the end of the data the state becomes STOPPED
    with reason ``"end of data"``. At full speed the feed waits while the queue is over
    half full, so a replay never drops ticks because the engine is busy.
    """

    name = "replay"

    def __init__(self, symbols: Iterable[SymbolRef], queue: TickQueue, **options: Any) -> None:
        super().__init__(symbols, queue, **options)
        self.counters: ReplayStats = ReplayStats()
        self.paths = _parse_paths(options.get("paths"))
        self.format = str(options.get("format", "ticks"))
        if self.format not in FORMATS:
            raise FeedConfigError(f"replay format must be one of {', '.join(FORMATS)}, "
                                  f"got {self.format!r}")
        self.speed = _parse_speed(options.get("speed"))
        self.only_symbols = _parse_bool(options.get("only_symbols", False))
        self._wanted = {ref.symbol for ref in self._symbols}

    def accepts(self, ref: SymbolRef) -> bool:
        """Accept any symbol: what is replayed is decided by the files."""
        return True

    def on_symbols_changed(self) -> None:
        """Refresh the symbol filter (used only with ``only_symbols``)."""
        self._wanted = {ref.symbol for ref in self._symbols}

    async def run(self) -> None:
        """Replay the files until the data ends or :meth:`stop` is called."""
        counters = self.counters
        counters.set_state(FeedState.LIVE)
        wall0 = event0 = None
        pending = 0
        half_full = max(1, self.queue.maxsize // 2)
        for tick in open_replay(self.paths, self.format, counters):
            if self.stopping:
                break
            if self.only_symbols and tick.symbol not in self._wanted:
                continue
            if self.speed is not None:
                if event0 is None:
                    wall0, event0 = time.monotonic(), tick.ts
                delay = wall0 + (tick.ts - event0) / self.speed - time.monotonic()
                if delay > 0.001 and await self.sleep(delay):
                    break
            self.emit(tick)
            pending += 1
            if pending >= _BATCH or len(self.queue) >= half_full:
                pending = 0
                counters.last_message_at = time.time()
                await self._yield_to_consumer()
        counters.last_message_at = time.time()
        counters.set_state(FeedState.STOPPED, "stopped" if self.stopping else "end of data")

    async def _yield_to_consumer(self) -> None:
        """Let the loop run; at full speed, wait while the queue is over half full."""
        await asyncio.sleep(0)
        if self.speed is None:
            await self.wait_for_room()


def _parse_paths(value: Any) -> list[str]:
    """Return the replay paths from a list or comma-separated string; check they exist."""
    if isinstance(value, str | Path):
        value = [p for p in str(value).split(",") if p.strip()]
    if not value:
        raise FeedConfigError("replay needs paths=[...] (files to replay)")
    paths = [str(p).strip() for p in value]
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise FeedConfigError(f"replay file not found: {', '.join(missing)}")
    return paths


def _parse_speed(value: Any) -> float | None:
    """Return the replay speed factor, None for as fast as possible."""
    if value is None or value == "max":
        return None
    try:
        speed = float(value)
    except (TypeError, ValueError):
        raise FeedConfigError(f"replay speed must be a positive number or 'max', "
                              f"got {value!r}") from None
    if not (math.isfinite(speed) and speed > 0):
        raise FeedConfigError(f"replay speed must be a positive number or 'max', got {value!r}")
    return speed


def _parse_bool(value: Any) -> bool:
    """Return a boolean option given as a bool or a string such as ``"true"``/``"0"``."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def main(argv: list[str] | None = None) -> None:
    """Check recordings and measure reading speed: ``python -m pulse.feeds.replay FILE...``."""
    import argparse  # only the command line needs it

    parser = argparse.ArgumentParser(prog="python -m pulse.feeds.replay",
                                     description="Read tick files; print counts and speed.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--format", choices=FORMATS, default="ticks")
    args = parser.parse_args(argv)
    stats = ReplayStats()
    began = time.perf_counter()
    ticks = sum(1 for _ in open_replay(args.files, args.format, stats))
    seconds = time.perf_counter() - began
    print(f"ticks: {ticks}\nlines: {stats.messages}\n"
          f"parse failures: {dict(stats.parse_failures)}\nignored: {dict(stats.ignored)}\n"
          f"gaps: {stats.gaps}, duplicates: {stats.duplicates}\n"
          f"clock_skew: {stats.clock_skew}, clock_resets: {stats.clock_resets}\n"
          f"seconds: {seconds:.2f} ({stats.messages / max(seconds, 1e-9):,.0f} lines/s, "
          f"{ticks / max(seconds, 1e-9):,.0f} ticks/s)")


if __name__ == "__main__":
    main()
