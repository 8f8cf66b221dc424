"""``gen_ticks --faults``: the dirty-data generator on the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from pulse.feeds.replay import ReplayStats, _parse_ticks, read_ticks

ARGS = ["--ticks", "6000", "--symbols", "crypto:BTC-USD,crypto:ETH-USD",
        "--start", "2026-01-05T15:00", "--seed", "3"]


def generate(path, *faults: str) -> tuple[list, str]:
    out = io.StringIO()
    extra = [arg for spec in faults for arg in ("--faults", spec)]
    call_command("gen_ticks", str(path), *ARGS, *extra, stdout=out)
    # The file as written: the parser without the replay's stream-clock check, which
    # (rightly) drops a future-stamped line; that check is asserted separately below.
    return list(_parse_ticks(path)), out.getvalue()


def test_faults_are_written_and_reported_and_the_rest_is_the_clean_stream(tmp_path):
    clean, _ = generate(tmp_path / "clean.ndjson")
    dirty, printed = generate(tmp_path / "dirty.ndjson",
                              "bad_print:symbol=ETH-USD:at=300:factor=10",
                              "future:symbol=BTC-USD:at=400:ahead=3500")
    assert len(dirty) == len(clean) + 2
    bad = [t for t in dirty if t.symbol == "ETH-USD" and t.price > 10_000]
    assert len(bad) == 1
    future = [t for t in dirty if t.ts - t.recv_ts > 1000]
    assert len(future) == 1 and future[0].symbol == "BTC-USD"
    rest = [t for t in dirty if t is not bad[0] and t is not future[0]]
    assert [(t.symbol, t.ts, t.price) for t in rest] == [(t.symbol, t.ts, t.price)
                                                          for t in clean]
    assert "fault bad_print:symbol=ETH-USD:at=300:factor=10: 1 tick(s) hit" in printed
    # Replaying the file, the stream clock drops the tick stamped 3,500 s ahead.
    stats = ReplayStats()
    replayed = list(read_ticks(tmp_path / "dirty.ndjson", stats))
    assert len(replayed) == len(clean) + 1 and stats.clock_skew == 1


def test_the_same_faults_and_seeds_give_the_same_file(tmp_path):
    spec = "late:rate=0.02:seed=5:at=0,vol:factor=3:at=100:duration=200"
    generate(tmp_path / "a.ndjson", spec)
    generate(tmp_path / "b.ndjson", spec)
    assert (tmp_path / "a.ndjson").read_bytes() == (tmp_path / "b.ndjson").read_bytes()


def test_a_bad_fault_spec_is_a_one_line_error(tmp_path):
    with pytest.raises(CommandError, match="unknown fault 'meteor'"):
        call_command("gen_ticks", str(tmp_path / "x.ndjson"), *ARGS, "--faults", "meteor")
    with pytest.raises(CommandError, match="unknown key"):
        call_command("gen_ticks", str(tmp_path / "x.ndjson"), *ARGS, "--faults", "gap:size=3")
