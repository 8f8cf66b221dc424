"""A replay file that gives one symbol two asset classes: the second class is counted, skipped.

The issue's failure: ``SOL-USD`` ticks of a Crypto stream (~150) mixed with a Forex stream
(~1.1) under one symbol made every return read thousands of percent and fired critical
events. The reader keeps the first class a file gives a symbol and counts the other lines as
``asset_mismatch`` in the replay feed's ``parse_failures`` (summary and health).
"""

from __future__ import annotations

import json
import math

from django.core.management import call_command

from pulse.engine.tick import Tick
from pulse.feeds.replay import ReplayStats, read_ticks, write_ticks

T0 = 1_764_000_000.0


def mixed_file(path, seconds: int = 600):
    """Write SOL-USD as Crypto (~150) every second and as Forex (~1.1) every third second."""
    ticks = []
    for t in range(seconds):
        price = 150.0 * math.exp(0.0004 * math.sin(t / 7.0))
        ticks.append(Tick("SOL-USD", "crypto", T0 + t, price))
        ticks.append(Tick("EURUSD", "forex", T0 + t + 0.5, 1.08))
        if t % 3 == 0:
            ticks.append(Tick("SOL-USD", "forex", T0 + t + 0.25, 1.1))
    write_ticks(path, ticks)
    return (seconds + 2) // 3


def test_the_reader_keeps_the_first_class_and_counts_the_other(tmp_path):
    path = tmp_path / "mixed.ndjson"
    forex_lines = mixed_file(path)
    stats = ReplayStats()
    ticks = list(read_ticks(path, stats))
    assert {(t.symbol, t.asset) for t in ticks} == {("SOL-USD", "crypto"), ("EURUSD", "forex")}
    assert min(t.price for t in ticks if t.symbol == "SOL-USD") > 140
    assert stats.parse_failures == {"asset_mismatch": forex_lines}
    assert stats.as_dict(now=0.0)["parse_failures"] == {"asset_mismatch": forex_lines}


def test_replay_of_a_mixed_file_fires_nothing_and_reports_the_mismatch(tmp_path, capsys):
    path = tmp_path / "mixed.ndjson"
    forex_lines = mixed_file(path)
    out = tmp_path / "summary.json"
    call_command("replay", str(path), "--summary", str(out), "--no-progress")
    summary = json.loads(out.read_text())
    assert summary["feeds"]["replay"]["parse_failures"] == {"asset_mismatch": forex_lines}
    assert summary["events"]["emitted"] == 0
    sol = summary["symbols"]["SOL-USD"]
    assert sol["asset"] == "crypto" and 140 < sol["last"] < 160
    assert abs(sol["ret_5m"]) < 0.01  # mixed streams read thousands of percent here
