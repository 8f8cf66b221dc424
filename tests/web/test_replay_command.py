"""manage.py replay over real recordings and generated streams: the summary contract."""

from __future__ import annotations

import gzip
import json

import pytest
from django.core.management import call_command

SUMMARY_KEYS = {"ticks", "seconds", "ticks_per_second", "symbols", "feeds", "events",
                "correlation"}


def count_trades(path) -> int:
    with gzip.open(path, "rt") as handle:
        return sum(1 for line in handle if '@trade"' in line)


def test_replaying_the_binance_recordings_gives_one_tick_per_trade(binance_recordings, tmp_path,
                                                                   capsys):
    btc, eth = binance_recordings
    out = tmp_path / "summary.json"
    call_command("replay", str(btc), str(eth), "--format", "binance", "--summary", str(out),
                 "--no-progress")
    printed = capsys.readouterr().out
    summary = json.loads(out.read_text())
    assert set(summary) >= SUMMARY_KEYS
    trades = count_trades(btc) + count_trades(eth)
    assert summary["ticks"] == trades == summary["engine"]["accepted"]
    assert f"ticks processed: {trades}" in printed and "ticks per second:" in printed
    assert summary["feeds"]["replay"]["gaps"] == 0
    assert summary["feeds"]["replay"]["parse_failures"] == {}
    assert set(summary["symbols"]) == {"BTCUSDT", "ETHUSDT"}
    assert summary["symbols"]["BTCUSDT"]["asset"] == "crypto"
    assert 50_000 < summary["symbols"]["BTCUSDT"]["last"] < 70_000
    corr = summary["correlation"]
    assert corr["symbols"] == ["BTCUSDT", "ETHUSDT"]
    # 5-second grid returns of BTC and ETH correlate at about 0.73 on this session.
    assert 0.63 <= corr["matrix"][0][1] <= 0.83
    assert corr["matrix"][0][1] == corr["matrix"][1][0]
    assert corr["base"] == "BTCUSDT"
    assert [item["symbol"] for item in corr["top"]] == ["ETHUSDT"]
    assert corr["top"][0]["corr"] == corr["matrix"][0][1]
    assert set(summary["events"]) == {"emitted", "persisted"}


def test_replay_merges_files_by_time_and_counts_bad_lines(tmp_path):
    a = tmp_path / "a.ndjson"
    b = tmp_path / "b.ndjson"
    a.write_text("\n".join([
        '{"symbol":"AAPL","asset":"stocks","ts":1767625200,"price":200.0}',
        '{"symbol":"AAPL","asset":"stocks","ts":1767625202,"price":201.0}',
        "not json",
        '{"symbol":"AAPL","asset":"stocks","ts":1767625203,"price":-5}',
    ]) + "\n")
    b.write_text('{"symbol":"EURUSD","asset":"forex","ts":1767625201,"price":1.08,'
                 '"bid":1.0799,"ask":1.0801}\n')
    out = tmp_path / "s.json"
    call_command("replay", str(a), str(b), "--summary", str(out), "--no-progress")
    summary = json.loads(out.read_text())
    assert summary["ticks"] == 3
    assert summary["symbols"]["AAPL"]["last"] == 201.0
    assert summary["symbols"]["EURUSD"]["bid"] == pytest.approx(1.0799)
    failures = summary["feeds"]["replay"]["parse_failures"]
    assert sum(failures.values()) == 2
    corr = summary["correlation"]
    assert corr["matrix"][0][1] is None  # too little data: says so instead of vanishing
    assert corr["status"][0][1] == "insufficient_overlap"


def test_paced_replay_takes_event_time_divided_by_speed(tmp_path):
    path = tmp_path / "p.ndjson"
    path.write_text("".join(
        f'{{"symbol":"BTC-USD","asset":"crypto","ts":{1767625200 + i * 0.5},"price":60000}}\n'
        for i in range(5)
    ))
    out = tmp_path / "s.json"
    call_command("replay", str(path), "--speed", "4", "--summary", str(out), "--no-progress")
    summary = json.loads(out.read_text())
    assert summary["ticks"] == 5
    assert 0.45 <= summary["seconds"] <= 2.0  # 2 s of event time at 4x
