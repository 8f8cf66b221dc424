"""``replay --from-db --since``: the recording through the same engine as live."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command

from pulse.durable.recorder import Recorder
from pulse.engine import Engine
from tests.durable.streams import T0, two_symbol_ticks


def record(ticks) -> Engine:
    engine, rec = Engine(), Recorder()
    rec.attach(engine)
    for tick in ticks:
        engine.on_tick(tick)
    async_to_sync(rec.flush)()
    return engine


@pytest.mark.django_db
def test_replaying_the_whole_recording_reproduces_the_live_metrics(tmp_path, capsys):
    ticks = two_symbol_ticks(seconds=1500)
    live = record(ticks)
    out = tmp_path / "summary.json"
    call_command("replay", "--from-db", "--since", "2h", "--summary", str(out))
    summary = json.loads(out.read_text())
    assert summary["ticks"] == len(ticks) == summary["engine"]["accepted"]
    assert summary["format"] == "recording"
    assert summary["symbols"]["BTC-USD"]["vol_15m"] == live.snapshot("BTC-USD")["vol_15m"]
    assert summary["symbols"]["ETH-USD"]["ret_15m"] == live.snapshot("ETH-USD")["ret_15m"]
    assert f"ticks processed: {len(ticks)}" in capsys.readouterr().out


@pytest.mark.django_db
def test_since_counts_back_from_the_end_of_the_recording(tmp_path):
    ticks = two_symbol_ticks(seconds=1500)
    record(ticks)
    out = tmp_path / "summary.json"
    call_command("replay", "--from-db", "--since", "5m", "--symbols", "ETH-USD",
                 "--summary", str(out))
    summary = json.loads(out.read_text())
    assert set(summary["symbols"]) == {"ETH-USD"}
    end = T0 + 1500
    expected = sum(1 for t in ticks if t.symbol == "ETH-USD" and t.ts >= end - 300)
    assert summary["ticks"] == expected


@pytest.mark.django_db
def test_replay_from_db_refuses_bad_arguments_and_an_empty_recording(tmp_path):
    with pytest.raises(CommandError, match="no recording"):
        call_command("replay", "--from-db")
    record(two_symbol_ticks(seconds=120))
    with pytest.raises(CommandError, match="--since"):
        call_command("replay", "--from-db", "--since", "soon")
    with pytest.raises(CommandError, match="not both"):
        call_command("replay", "--from-db", str(tmp_path / "x.ndjson"))
    with pytest.raises(CommandError, match="not both"):
        call_command("replay")
