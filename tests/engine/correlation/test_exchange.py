"""Ingest shards share grid samples, and a shard's matrix then equals one process's.

Two engines each follow half of the symbols and, once a second of event time, export their
own grid samples, which reach the other engine one export later (transport delay), with
one batch lost outright. Both answer correlation ``correlation_lag`` seconds behind, like
sharded ingest. A reference engine sees every tick. The matrices must agree.
"""

from __future__ import annotations

import math
import random

import pytest

from pulse.engine import Engine
from pulse.engine.correlation import CorrelationTracker
from pulse.engine.tick import Tick

SYMBOLS = ["A0", "A1", "A2", "B0", "B1", "B2"]
LAG = 5.0
OVERLAP = 5


def correlated_stream(seconds: float, seed: int) -> list[Tick]:
    """Six symbols on one common factor at uneven rates, with a silent spell for B1."""
    rng = random.Random(seed)
    rates = {"A0": 3.0, "A1": 0.7, "A2": 0.2, "B0": 2.0, "B1": 0.5, "B2": 1.2}
    log_price = dict.fromkeys(SYMBOLS, math.log(100.0))
    ticks, t = [], 1_767_625_200.0
    end = t + seconds
    while t < end:
        t += rng.expovariate(sum(rates.values()))
        factor = rng.gauss(0, 0.0004)
        for s in SYMBOLS:
            log_price[s] += 0.6 * factor + rng.gauss(0, 0.0003)
        symbol = rng.choices(SYMBOLS, weights=[rates[s] for s in SYMBOLS])[0]
        if symbol == "B1" and 600 < t - (end - seconds) < 900:
            continue  # five silent minutes
        ticks.append(Tick(symbol, "crypto", t, round(math.exp(log_price[symbol]), 6)))
    return ticks


class Shard:
    """One engine following ``own`` symbols, exporting like ``GridExchange`` does."""

    def __init__(self, own: set[str]) -> None:
        self.own = own
        self.engine = Engine()
        self.engine.correlation_lag = LAG
        self.through: dict[str, int] = {}

    def export(self) -> dict[str, list]:
        after = {s: c - OVERLAP for s, c in self.through.items()}
        through, samples = self.engine.export_correlation_samples(after)
        for symbol in samples:
            self.through[symbol] = through
        return samples

    def take(self, samples: dict[str, list]) -> None:
        for symbol, rows in samples.items():
            self.engine.import_correlation_samples(symbol, rows)


def run(seconds: float, seed: int, queries: list[dict]) -> list[tuple[dict, dict, dict]]:
    """Drive reference and shards; return (reference, shard a, shard b) answers per query."""
    ref = Engine()
    ref.correlation_lag = LAG
    a, b = Shard({"A0", "A1", "A2"}), Shard({"B0", "B1", "B2"})
    pending: list[tuple[Shard, dict]] = []
    next_second, exports, answers = None, 0, []
    for tick in correlated_stream(seconds, seed):
        if next_second is not None and tick.ts >= next_second:
            for shard, samples in pending:  # last second's batches arrive now
                shard.take(samples)
            exports += 1
            batch_a, batch_b = a.export(), b.export()
            pending = [(b, batch_a)] + ([] if exports == 400 else [(a, batch_b)])  # one lost
            if exports % 30 == 0 and exports > 60:
                for q in queries:
                    answers.append((ref.correlation(SYMBOLS, **q), a.engine.correlation(
                        SYMBOLS, **q), b.engine.correlation(SYMBOLS, **q)))
        next_second = math.floor(tick.ts) + 1.0
        ref.on_tick(tick)
        (a if tick.symbol in a.own else b).engine.on_tick(tick)
    return answers


QUERIES = [{}, {"window": 300}, {"method": "bucketed", "bucket_seconds": 10},
           {"method": "bucketed", "bucket_seconds": 30}]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7, 8])
def test_each_shard_answers_the_whole_matrix_as_one_process_would(seed):
    answers = run(1500, seed, QUERIES)
    assert len(answers) >= 4 * len(QUERIES) * 3
    compared = skipped = 0
    for ref, *shards in answers:
        for got in shards:
            assert got["symbols"] == ref["symbols"]
            if math.floor(got["as_of"]) != math.floor(ref["as_of"]):
                # A shard's clock is its own newest tick: when that lies in an earlier second
                # than the reference's, its window ends one cell earlier. Compare like for like.
                skipped += 1
                continue
            assert got["status"] == ref["status"]
            assert got["coverage"] == ref["coverage"]
            for row_ref, row_got in zip(ref["matrix"], got["matrix"], strict=True):
                for x, y in zip(row_ref, row_got, strict=True):
                    assert (x is None) == (y is None)
                    if x is not None:
                        assert abs(x - y) < 1e-9
                        compared += 1
    assert compared > 1000 and skipped < compared / 10  # real numbers, mostly compared


def test_top_correlated_sees_the_other_shards_symbols():
    a, b = Shard({"A0", "A1", "A2"}), Shard({"B0", "B1", "B2"})
    next_second = None
    for tick in correlated_stream(1200, 3):
        if next_second is not None and tick.ts >= next_second:
            b.take(a.export())
            a.take(b.export())
        next_second = math.floor(tick.ts) + 1.0
        (a if tick.symbol in a.own else b).engine.on_tick(tick)
    top = a.engine.top_correlated("A0", SYMBOLS, 3)
    assert {row["symbol"] for row in top} & {"B0", "B1", "B2"}
    assert a.engine.correlation_symbols() == SYMBOLS
    assert a.engine.symbols() == ["A0", "A1", "A2"]  # snapshots stay this shard's own


def test_own_symbols_are_never_overwritten_by_imports():
    engine = Engine()
    t = 1_722_000_000.0  # the engine rejects event times before 2000 as bad_ts
    engine.on_tick(Tick("A0", "crypto", t + 100.5, 10.0))
    assert engine.import_correlation_samples("A0", [(t + 101, t + 101.2, 99.0)]) == 0
    assert engine.history("A0")[-1] == [t + 100.5, 10.0]


def test_repeated_late_and_hostile_samples():
    tracker = CorrelationTracker()
    rows = [(100, 100.2, 10.0), (101, 101.5, 10.5), (103, 103.1, 11.0)]
    assert tracker.import_samples("X", rows) == 3
    assert tracker.import_samples("X", rows) == 0  # the overlap of the next batch: skipped
    tracker.matrix(["X"], 110.0)  # a query closes X's grid through cell 109
    assert tracker.import_samples("X", [(105, 105.5, 12.0)]) == 0  # too late: dropped
    assert tracker.late_samples == 1
    bad = [(111, math.nan, 1.0), (112, 112.5, -1.0), (113, 113.5, math.inf), (114, 114.1, 0.0)]
    assert tracker.import_samples("X", bad) == 0
    assert tracker.import_samples("X", [(115, 115.5, 12.5)]) == 1
    assert tracker.history("X", seconds=30, step=1)[-1] == [115.5, 12.5]
