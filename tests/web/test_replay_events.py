"""``replay --events``: every emitted stress event as NDJSON, in the live event schema."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command

from pulse.durable.recorder import Recorder
from pulse.engine import Engine, Tick
from pulse.feeds.replay import write_ticks
from tests.durable.streams import two_symbol_ticks

# The keys of an event on the WebSocket/API (docs/websocket.md, "event"); new keys may appear.
EVENT_KEYS = {"id", "symbol", "asset", "type", "direction", "severity", "ts", "value",
              "threshold", "z", "window", "regime", "ref_price", "ref_age", "price", "also",
              "message"}


def live_events(ticks: list[Tick]) -> list[dict]:
    """Return the events an engine fires over ``ticks``, as the pipeline serializes them."""
    engine = Engine()
    out: list[dict] = []
    for tick in ticks:
        out.extend(json.loads(json.dumps(e.to_dict())) for e in engine.on_tick(tick))
    return out


@pytest.fixture
def stream(tmp_path) -> tuple[Path, list[Tick]]:
    ticks = two_symbol_ticks(seconds=2400)
    path = tmp_path / "ticks.ndjson"
    write_ticks(path, ticks)
    return path, ticks


def test_events_file_holds_every_emitted_event_in_the_live_schema(stream, tmp_path, capsys):
    path, ticks = stream
    out = tmp_path / "events.ndjson"
    call_command("replay", str(path), "--events", str(out), "--no-progress")
    lines = out.read_text().splitlines()
    events = [json.loads(line) for line in lines]
    expected = live_events(ticks)
    assert expected, "the stream's late drop must fire events"
    assert events == expected
    assert all(set(e) >= EVENT_KEYS for e in events)
    printed = capsys.readouterr().out
    assert f"events emitted: {len(events)}" in printed
    assert f"events written to {out}: {len(events)}" in printed


def test_events_to_stdout_leave_stdout_pure_ndjson(stream):
    path, ticks = stream
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("replay", str(path), "--events", "-", "--no-progress",
                 stdout=stdout, stderr=stderr)
    lines = stdout.getvalue().splitlines()
    assert [json.loads(line) for line in lines] == live_events(ticks)
    assert "ticks processed:" in stderr.getvalue()
    assert "ticks processed:" not in stdout.getvalue()


def test_a_quiet_replay_writes_an_empty_events_file(tmp_path):
    path = tmp_path / "flat.ndjson"
    write_ticks(path, [Tick("BTC-USD", "crypto", 1_767_625_200.0 + i, 60_000.0, size=i + 1.0)
                       for i in range(30)])
    out = tmp_path / "events.ndjson"
    call_command("replay", str(path), "--events", str(out), "--no-progress",
                 stdout=io.StringIO())
    assert out.read_text() == ""


@pytest.mark.parametrize("target", ["missing-dir/events.ndjson", "."])
def test_an_unwritable_events_path_is_refused_before_replaying(stream, tmp_path, target):
    path, _ = stream
    with pytest.raises(CommandError, match="--events: cannot write"):
        call_command("replay", str(path), "--events", str(tmp_path / target), "--no-progress")


def test_a_write_failure_during_the_replay_is_a_clear_error(stream):
    path, _ = stream

    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    with pytest.raises(CommandError, match=r"--events: cannot write -: .*No space left"):
        call_command("replay", str(path), "--events", "-", "--no-progress",
                     stdout=Full(), stderr=io.StringIO())


@pytest.mark.django_db
def test_events_work_with_from_db(tmp_path):
    ticks = two_symbol_ticks(seconds=2400)
    rec, engine = Recorder(), Engine()
    rec.attach(engine)
    for tick in ticks:
        engine.on_tick(tick)
    async_to_sync(rec.flush)()
    out = tmp_path / "events.ndjson"
    call_command("replay", "--from-db", "--since", "2h", "--events", str(out),
                 stdout=io.StringIO(), stderr=io.StringIO())
    events = [json.loads(line) for line in out.read_text().splitlines()]
    # The recording keeps each cell's last tick, so intra-cell prices differ from the live
    # stream; the late drop of both symbols must still be there, in the same schema.
    assert {e["symbol"] for e in events if e["direction"] == "down"} == {"BTC-USD", "ETH-USD"}
    assert all(set(e) >= EVENT_KEYS for e in events)
