"""Replay readers, the writer, the time merge, ReplayFeed and the gen_ticks command."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import io
import itertools
import math
from pathlib import Path

import orjson
import pytest
from django.core.management import CommandError, call_command

from pulse.engine.tick import CRYPTO, FOREX, STOCKS, Tick
from pulse.feeds.base import FeedConfigError, FeedCounters, FeedState, SymbolRef, TickQueue
from pulse.feeds.replay import (
    MAX_LINE,
    ReplayFeed,
    ReplayStats,
    merge_by_time,
    read_binance,
    read_ticks,
    write_ticks,
)
from pulse.feeds.synthetic import SyntheticMarket
from pulse.feeds.universe import DEFAULT_UNIVERSE
from tests.conftest import SHARED_DATA as DATA

RECORDINGS = {"BTCUSDT": DATA / "btcusdt_20240808.gz", "ETHUSDT": DATA / "ethusdt_20240808.gz"}
T0 = 1_723_161_600.0


def synthetic(n: int, seed: int = 1) -> list[Tick]:
    m = SyntheticMarket(DEFAULT_UNIVERSE, seed=seed, start_ts=T0, stock_hours="always")
    return list(itertools.islice(m.ticks_until(math.inf), n))


def write_lines(path: Path, lines: list[bytes]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as handle:
        handle.write(b"".join(line + b"\n" for line in lines))
    return path


def count_stream_lines(path: Path) -> dict[str, int]:
    """Count lines per stream kind by plain text search, independently of the reader."""
    counts = {"trade": 0, "bookTicker": 0, "depth": 0, "other": 0}
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if '@trade"' in line:
                counts["trade"] += 1
            elif '@bookTicker"' in line:
                counts["bookTicker"] += 1
            elif '@depth' in line:
                counts["depth"] += 1
            else:
                counts["other"] += 1
    return counts


# -- read_ticks / write_ticks ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["ticks.ndjson", "ticks.ndjson.gz"])
def test_it_reads_back_exactly_what_it_wrote(tmp_path, name):
    ticks = synthetic(3000)
    path = tmp_path / name
    assert write_ticks(path, ticks) == 3000
    stats = ReplayStats()
    assert list(read_ticks(path, stats, provider="synthetic")) == ticks
    assert stats.messages == 3000 and not stats.parse_failures
    assert {t.asset for t in ticks} == {STOCKS, FOREX, CRYPTO}


def test_it_writes_gzip_only_when_the_name_ends_in_gz(tmp_path):
    ticks = synthetic(10)
    write_ticks(tmp_path / "a.gz", ticks)
    write_ticks(tmp_path / "a.ndjson", ticks)
    assert (tmp_path / "a.gz").read_bytes()[:2] == b"\x1f\x8b"
    first = orjson.loads((tmp_path / "a.ndjson").read_bytes().splitlines()[0])
    assert set(first) >= {"symbol", "asset", "ts", "price"}


def test_it_counts_and_skips_hostile_lines_by_reason(tmp_path):
    good = b'{"symbol":"AAPL","asset":"stocks","ts":1723161600.5,"price":225.1,"size":100}'
    lines = [
        good,
        b"",
        b"   ",
        b"{not json",
        b"[1, 2, 3]",
        b'{"symbol":"AAPL","asset":"stocks","ts":1723161600.5}',
        b'{"symbol":"AAPL","asset":"stocks","ts":1723161600.5,"price":"225.1"}',
        b'{"symbol":"AAPL","asset":"stocks","ts":"1723161600","price":225.1}',
        b'{"symbol":"AAPL","asset":"stocks","ts":true,"price":225.1}',
        b'{"symbol":"AAPL","asset":"stocks","ts":1723161600.5,"price":NaN}',
        b'{"symbol":"AAPL","asset":"stocks","ts":1723161600.5,"price":1e999}',
        b'{"symbol":"AAPL","asset":"stocks","ts":1723161600.5,"price":0}',
        b'{"symbol":"AAPL","asset":"stocks","ts":1723161600.5,"price":-3.5}',
        b'{"symbol":"AAPL","asset":"stocks","ts":-1,"price":225.1}',
        b'{"symbol":"AAPL","asset":"bonds","ts":1723161600.5,"price":225.1}',
        b'{"symbol":"","asset":"stocks","ts":1723161600.5,"price":225.1}',
        b'{"symbol":7,"asset":"stocks","ts":1723161600.5,"price":225.1}',
        b'{"symbol":"EURUSD","asset":"forex","ts":1723161600.5,"price":1.1,"bid":"1.0"}',
        b'{"symbol":"AAPL","asset":"stocks","ts":1723161600.5,"price":225.1,"recv_ts":0}',
        b'{"symbol":"AAPL","asset":"stocks","ts":1723161600.5,"price":225.1,"x":"'
        + b"y" * (3 * MAX_LINE) + b'"}',
        good,
    ]
    stats = ReplayStats()
    ticks = list(read_ticks(write_lines(tmp_path / "hostile.ndjson", lines), stats))
    assert len(ticks) == 2
    assert ticks[0] == Tick("AAPL", STOCKS, 1723161600.5, 225.1, size=100, provider="replay")
    assert dict(stats.parse_failures) == {
        "bad_json": 3,  # broken, NaN, 1e999
        "not_object": 1,
        "missing_field": 1,
        # string price, string ts, bool ts, empty symbol, int symbol, string bid, bad recv_ts
        "bad_type": 7,
        "bad_price": 2,  # zero, negative
        "bad_ts": 1,
        "unknown_asset": 1,
        "line_too_long": 1,
    }
    assert stats.messages == len(lines) - 2  # blank lines are not messages
    assert stats.ticks == 0  # readers leave ticks to Feed.emit


def test_it_takes_times_above_1e11_as_milliseconds(tmp_path):
    lines = [b'{"symbol":"BTC-USD","asset":"crypto","ts":1723161600123,"price":61000,'
             b'"recv_ts":1723161600456}']
    (tick,) = read_ticks(write_lines(tmp_path / "ms.ndjson", lines))
    assert tick.ts == pytest.approx(1723161600.123)
    assert tick.recv_ts == pytest.approx(1723161600.456)
    assert tick.price == 61000.0 and isinstance(tick.price, float)


def test_it_survives_a_truncated_gzip_file(tmp_path):
    whole = tmp_path / "whole.ndjson.gz"
    write_ticks(whole, synthetic(5000))
    cut = tmp_path / "cut.ndjson.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    stats = ReplayStats()
    ticks = list(read_ticks(cut, stats))
    assert 0 < len(ticks) < 5000
    assert stats.parse_failures["truncated_file"] == 1


def test_it_counts_a_file_that_is_not_gzip_as_unreadable(tmp_path):
    fake = tmp_path / "fake.gz"
    fake.write_bytes(b'{"symbol":"AAPL"}\n')
    stats = ReplayStats()
    assert list(read_ticks(fake, stats)) == []
    assert stats.parse_failures["unreadable_file"] == 1


# -- read_binance ---------------------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize("symbol", sorted(RECORDINGS))
def test_it_turns_every_recorded_binance_trade_into_one_tick(symbol):
    path = RECORDINGS[symbol]
    expected = count_stream_lines(path)
    stats = ReplayStats()
    ticks = list(read_binance(path, stats))
    assert len(ticks) == expected["trade"] > 5000
    assert {t.symbol for t in ticks} == {symbol}
    assert stats.gaps == 0 and stats.duplicates == 0 and not stats.parse_failures
    assert stats.ignored["bookTicker"] == expected["bookTicker"]
    assert stats.ignored["depth@100ms"] == expected["depth"]
    assert stats.ignored["no_stream"] == expected["other"]
    assert stats.messages == sum(expected.values())
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(ticks))
    ids = [t.trade_id for t in ticks]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    # The recorder's clock ran about 1.27 s behind Binance's.
    assert stats.clock_offset == pytest.approx(-1.27, abs=0.05)


@pytest.mark.shared_data
def test_it_maps_binance_trade_fields():
    first = next(read_binance(RECORDINGS["BTCUSDT"]))
    assert first == Tick("BTCUSDT", CRYPTO, 1723161255.342, 61837.63,
                         recv_ts=1723161254087896568 / 1e9, size=0.02, provider="binance",
                         trade_id=3735683259)


def trade(trade_id: int, price: str = "100.5", ms: int = 1723161255342) -> bytes:
    data = {"e": "trade", "E": ms, "s": "BTCUSDT", "t": trade_id, "p": price, "q": "0.1",
            "T": ms, "m": True}
    return b"1723161254087896568 " + orjson.dumps({"stream": "btcusdt@trade", "data": data})


def test_it_counts_gaps_duplicates_and_bad_binance_lines(tmp_path):
    lines = [
        trade(1),
        trade(2),
        trade(4),  # gap: 3 is missing
        trade(4),  # duplicate: skipped
        trade(3),  # older than the last: skipped as a duplicate
        trade(5, price="abc"),
        trade(6, price="-1"),
        b"notanumber " + trade(7).partition(b" ")[2],
        b"1723161254087896568 {oops",
        b'1723161254087896568 {"stream":"btcusdt@trade","data":{"s":"BTCUSDT","t":8}}',
        b'1723161254087896568 {"stream":"btcusdt@trade","data":[1]}',
        b'1723161254087896568 {"stream":"btcusdt@bookTicker","data":{"s":"BTCUSDT"}}',
        b'1723161254087896568 {"lastUpdateId":1,"bids":[],"asks":[]}',
        trade(9),
    ]
    stats = ReplayStats()
    ticks = list(read_binance(write_lines(tmp_path / "b.gz", lines), stats))
    assert [t.trade_id for t in ticks] == [1, 2, 4, 9]
    assert stats.gaps == 2 and stats.duplicates == 2
    assert dict(stats.parse_failures) == {"bad_number": 1, "bad_price": 1, "bad_stamp": 1,
                                          "bad_json": 1, "missing_field": 1, "not_object": 1}
    assert dict(stats.ignored) == {"bookTicker": 1, "no_stream": 1}


def test_it_accepts_plain_feed_counters(tmp_path):
    counters = FeedCounters()
    path = write_lines(tmp_path / "b.gz", [trade(1), trade(3), b"1 {\"stream\":\"x@depth\"}"])
    assert len(list(read_binance(path, counters))) == 2
    assert counters.gaps == 1 and counters.messages == 3


# -- merge_by_time --------------------------------------------------------------------------


@pytest.mark.shared_data
def test_it_merges_recordings_into_one_time_ordered_stream():
    merged = list(merge_by_time([read_binance(p) for p in RECORDINGS.values()]))
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(merged))
    counts = {s: sum(t.symbol == s for t in merged) for s in RECORDINGS}
    assert counts == {s: count_stream_lines(p)["trade"] for s, p in RECORDINGS.items()}


def test_it_merges_split_synthetic_streams_back_into_the_original_order(tmp_path):
    ticks = synthetic(2000)
    crypto = [t for t in ticks if t.asset == CRYPTO]
    rest = [t for t in ticks if t.asset != CRYPTO]
    assert list(merge_by_time([crypto, rest])) == sorted(ticks, key=lambda t: t.ts)


# -- ReplayFeed -----------------------------------------------------------------------------


async def drain(queue: TickQueue, feed: ReplayFeed) -> list[Tick]:
    """Run ``feed`` and collect everything it queues until it finishes."""
    received: list[Tick] = []
    task = asyncio.create_task(feed.run())
    while not (task.done() and len(queue) == 0):
        with contextlib.suppress(TimeoutError):
            received += await asyncio.wait_for(queue.get_batch(500), timeout=0.05)
    await task
    return received


async def test_replay_feed_at_full_speed_delivers_every_tick_without_drops(tmp_path):
    ticks = synthetic(20_000)
    write_ticks(tmp_path / "t.ndjson.gz", ticks)
    queue = TickQueue(maxsize=1000)  # far smaller than the file: needs back-pressure
    feed = ReplayFeed([], queue, paths=[str(tmp_path / "t.ndjson.gz")])
    received = await drain(queue, feed)
    assert [(t.symbol, t.ts, t.price) for t in received] == [
        (t.symbol, t.ts, t.price) for t in ticks]
    assert queue.dropped == 0 and feed.counters.dropped == 0
    assert feed.counters.ticks == 20_000
    assert feed.counters.state == FeedState.STOPPED
    assert feed.counters.reason == "end of data"


@pytest.mark.shared_data
async def test_replay_feed_merges_binance_recordings_and_keeps_their_times():
    queue = TickQueue()
    feed = ReplayFeed([], queue, paths=",".join(str(p) for p in RECORDINGS.values()),
                      format="binance", speed="max")
    received = await drain(queue, feed)
    assert len(received) == sum(count_stream_lines(p)["trade"] for p in RECORDINGS.values())
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(received))
    assert received[0].ts == 1723161255.342
    assert feed.health()["ignored"]["bookTicker"] > 0


async def test_replay_feed_paces_by_event_time_and_delivers_everything(tmp_path):
    ticks = [Tick("AAPL", STOCKS, T0 + i * 0.01, 100.0 + i) for i in range(50)]
    write_ticks(tmp_path / "t.ndjson", ticks)
    queue = TickQueue()
    feed = ReplayFeed([], queue, paths=[tmp_path / "t.ndjson"], speed=10.0)
    received = await drain(queue, feed)
    assert [t.price for t in received] == [t.price for t in ticks]


async def test_replay_feed_stops_promptly_when_asked(tmp_path):
    ticks = [Tick("AAPL", STOCKS, T0 + i * 60.0, 100.0) for i in range(10)]
    write_ticks(tmp_path / "t.ndjson", ticks)
    queue = TickQueue()
    feed = ReplayFeed([], queue, paths=[tmp_path / "t.ndjson"], speed=1.0)
    task = asyncio.create_task(feed.run())
    first = await queue.get_batch()
    assert feed.counters.state == FeedState.LIVE
    feed.stop()
    await asyncio.wait_for(task, timeout=2.0)
    assert len(first) == 1 and len(queue) == 0
    assert feed.counters.state == FeedState.STOPPED and feed.counters.reason == "stopped"


async def test_replay_feed_can_limit_itself_to_its_symbols(tmp_path):
    write_ticks(tmp_path / "t.ndjson", synthetic(2000))
    queue = TickQueue()
    feed = ReplayFeed([SymbolRef(CRYPTO, "BTC-USD")], queue, paths=[tmp_path / "t.ndjson"],
                      only_symbols="true")
    received = await drain(queue, feed)
    assert received and {t.symbol for t in received} == {"BTC-USD"}


def test_replay_feed_rejects_bad_configuration(tmp_path):
    existing = tmp_path / "t.ndjson"
    existing.write_text("")
    queue = TickQueue()
    with pytest.raises(FeedConfigError, match="paths"):
        ReplayFeed([], queue)
    with pytest.raises(FeedConfigError, match="not found"):
        ReplayFeed([], queue, paths=[str(tmp_path / "missing.gz")])
    with pytest.raises(FeedConfigError, match="format"):
        ReplayFeed([], queue, paths=[existing], format="csv")
    for speed in ("fast", 0, -2, "nan"):
        with pytest.raises(FeedConfigError, match="speed"):
            ReplayFeed([], queue, paths=[existing], speed=speed)


# -- gen_ticks ------------------------------------------------------------------------------


def gen(*args: str) -> str:
    out = io.StringIO()
    call_command("gen_ticks", *args, stdout=out)
    return out.getvalue()


def test_gen_ticks_writes_a_readable_deterministic_file(tmp_path):
    first, second = tmp_path / "a.ndjson.gz", tmp_path / "b.ndjson.gz"
    report = gen(str(first), "--ticks", "4000", "--seed", "5", "--start", "2024-08-08T12:00")
    gen(str(second), "--ticks", "4000", "--seed", "5", "--start", "1723118400")
    assert "wrote 4000 ticks" in report and "2024-08-08T12:00" in report
    stats = ReplayStats()
    ticks = list(read_ticks(first, stats))
    assert len(ticks) == 4000 and not stats.parse_failures
    assert len({t.symbol for t in ticks}) >= 17
    assert ticks[0].ts > 1723118400 and ticks[-1].ts < 1723118400 + 600
    assert gzip.decompress(first.read_bytes()) == gzip.decompress(second.read_bytes())


def test_gen_ticks_limits_itself_to_the_given_symbols(tmp_path):
    out = tmp_path / "t.ndjson"
    gen(str(out), "--ticks", "500", "--symbols", "crypto:BTC-USD, stocks:acme",
        "--stock-hours", "nyse", "--start", "2024-08-10T12:00:00+00:00")  # a Saturday
    symbols = {t.symbol for t in read_ticks(out)}
    assert symbols == {"BTC-USD"}  # ACME is closed all weekend


@pytest.mark.parametrize(("args", "message"), [
    (["--symbols", "bonds:X"], "unknown asset class"),
    (["--symbols", ","], "empty"),
    (["--start", "yesterday"], "--start"),
    (["--start", "-5"], "--start"),
    (["--ticks", "0"], "--ticks"),
    (["--rate-scale", "0"], "--rate-scale"),
    (["--rate-scale", "nan"], "--rate-scale"),
])
def test_gen_ticks_rejects_bad_arguments_with_one_line(tmp_path, args, message):
    with pytest.raises(CommandError, match=message) as caught:
        gen(str(tmp_path / "t.ndjson"), *args)
    assert "\n" not in str(caught.value)


def test_gen_ticks_rejects_a_missing_output_directory(tmp_path):
    with pytest.raises(CommandError, match="no such directory"):
        gen(str(tmp_path / "nope" / "t.ndjson"), "--ticks", "10")
