"""Replay against the stream's own clock: files with bogus times, gaps and several streams."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson

from pulse.engine.tick import CRYPTO, STOCKS, Tick
from pulse.feeds.base import SymbolRef, TickQueue
from pulse.feeds.replay import ReplayFeed, ReplayStats, open_replay, read_ticks
from pulse.feeds.stream_clock import follow_clock

T0 = 1_767_625_200.0  # 2026-01-05T15:00:00Z


def line(ts: float, price: float = 100.0, symbol: str = "BTC-USD",
         asset: str = CRYPTO) -> dict[str, object]:
    return {"symbol": symbol, "asset": asset, "ts": ts, "price": price}


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    return path


def every_second(start: float, n: int, **kw: object) -> list[dict[str, object]]:
    return [line(start + i, 100.0 + i, **kw) for i in range(n)]  # type: ignore[arg-type]


def test_a_1e300_line_is_bad_ts_and_the_rest_of_the_file_replays(tmp_path: Path) -> None:
    rows = [*every_second(T0, 10), line(1e300, 5.0), *every_second(T0 + 10, 10)]
    stats = ReplayStats()
    ticks = list(read_ticks(write(tmp_path / "a.ndjson", rows), stats))
    assert [t.ts for t in ticks] == [T0 + i for i in range(20)]
    assert stats.parse_failures == {"bad_ts": 1}


def test_a_line_3500s_ahead_of_a_one_second_stream_is_dropped_and_counted(
        tmp_path: Path) -> None:
    rows = [*every_second(T0, 10), line(T0 + 3510, 5.0), *every_second(T0 + 10, 10)]
    stats = ReplayStats()
    ticks = list(read_ticks(write(tmp_path / "a.ndjson", rows), stats))
    assert 5.0 not in [t.price for t in ticks] and len(ticks) == 20
    assert stats.clock_skew == 1 and stats.clock_resets == 0
    assert stats.as_dict()["clock_skew"] == 1  # flows into health and summaries


def test_a_genuine_overnight_gap_is_followed_once_the_next_lines_confirm_it(
        tmp_path: Path) -> None:
    night = 17.5 * 3600
    rows = every_second(T0, 10, symbol="AAPL", asset=STOCKS) + every_second(
        T0 + night, 10, symbol="AAPL", asset=STOCKS)
    stats = ReplayStats()
    ticks = list(read_ticks(write(tmp_path / "a.ndjson", rows), stats))
    assert [t.ts for t in ticks] == [r["ts"] for r in rows]  # nothing lost, order kept
    assert stats.clock_resets == 1 and stats.clock_skew == 0


def test_a_weekend_gap_in_a_sparse_stream_is_followed_too(tmp_path: Path) -> None:
    rows = [line(T0 + 600 * i) for i in range(5)]  # one tick every 10 minutes
    rows += [line(T0 + 2 * 86400 + 600 * i) for i in range(5)]
    stats = ReplayStats()
    ticks = list(read_ticks(write(tmp_path / "a.ndjson", rows), stats))
    assert len(ticks) == 10 and stats.clock_skew == 0


def test_a_bad_first_line_cannot_set_the_clock(tmp_path: Path) -> None:
    rows = [line(T0 + 3500, 5.0), *every_second(T0, 10)]
    stats = ReplayStats()
    ticks = list(read_ticks(write(tmp_path / "a.ndjson", rows), stats))
    assert [t.ts for t in ticks] == [T0 + i for i in range(10)]
    assert stats.clock_skew == 1


def test_a_recording_whose_clock_went_back_is_followed_after_a_few_lines() -> None:
    stats = ReplayStats()
    ticks = [Tick("X", CRYPTO, ts, 1.0) for ts in
             [T0 + i for i in range(5)] + [T0 - 7200 + i for i in range(5)]
             + [T0 - 7200 + 5 + 3000]]  # 3000 s ahead of the new clock: rejected
    out = list(follow_clock(ticks, stats))
    assert len(out) == 10  # behind ticks are passed on (the engine decides what is late)
    assert stats.clock_resets == 1 and stats.clock_skew == 1


def test_an_unconfirmed_jump_at_the_end_of_a_file_is_dropped() -> None:
    stats = ReplayStats()
    ticks = [Tick("X", CRYPTO, T0 + i, 1.0) for i in range(5)]
    ticks.append(Tick("X", CRYPTO, T0 + 3500, 1.0))
    assert len(list(follow_clock(ticks, stats))) == 5
    assert stats.clock_skew == 1


def test_merging_files_survives_one_bad_line(tmp_path: Path) -> None:
    btc = every_second(T0, 10, symbol="BTC-USD")
    a = write(tmp_path / "a.ndjson", [*btc[:5], line(1e300), line(T0 + 5000, 7.0), *btc[5:]])
    b = write(tmp_path / "b.ndjson", [line(T0 + i + 0.5, 50.0, symbol="ETH-USD")
                                      for i in range(10)])
    stats = ReplayStats()
    ticks = list(open_replay([a, b], "ticks", stats))
    assert [t.ts for t in ticks] == sorted(t.ts for t in ticks)  # still one time order
    assert len(ticks) == 20
    assert stats.parse_failures == {"bad_ts": 1} and stats.clock_skew == 1


async def test_the_replay_feed_reports_what_the_clock_rejected(tmp_path: Path) -> None:
    rows = [*every_second(T0, 10), line(T0 + 3510, 5.0), *every_second(T0 + 10, 5)]
    path = write(tmp_path / "a.ndjson", rows)
    queue = TickQueue()
    feed = ReplayFeed([SymbolRef(CRYPTO, "BTC-USD")], queue, paths=[str(path)])
    await asyncio.wait_for(feed.run(), timeout=5.0)
    assert len(queue) == 15
    health = feed.health()
    assert health["clock_skew"] == 1 and health["ticks"] == 15
