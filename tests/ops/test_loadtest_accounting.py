"""How a load-test client counts what it receives: latency, sequence jumps, events, stats."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from pulse.ops.loadtest import clients
from pulse.ops.loadtest.client_stats import ClientStats
from pulse.ops.loadtest.clients import LoadRun, origin_of

START = 1000.0  # measured window starts here


def test_latency_is_receipt_time_minus_snapshot_or_event_time_per_type():
    st = ClientStats()
    st.count({"type": "snapshot", "seq": 1, "ts": 1000.5}, now=1000.75, measure_from=START)
    st.count({"type": "event", "seq": 2, "event": {"id": 7, "ts": 1000.0}}, now=1001.0,
             measure_from=START)
    st.count({"type": "health", "seq": 3, "ts": 1.0}, now=1001.0, measure_from=START)
    assert st.latencies == {"snapshot": [0.25], "event": [1.0]}
    assert st.recent == [0.25, 1.0]
    assert st.events == {"7": 1000.0}  # ids as strings, with the event's time
    assert st.messages == 3  # health counts as a message but carries no event time
    assert st.last_seq == 3 and st.gaps == 0


def test_messages_before_the_window_track_seq_but_are_not_measured():
    st = ClientStats()
    st.count({"type": "snapshot", "seq": 1, "ts": 990.0}, now=999.0, measure_from=START)
    assert st.messages == 0 and st.latencies == {} and st.last_seq == 1


def test_seq_jumps_count_gaps_and_missing_messages_but_not_own_full_snapshots():
    st = ClientStats()
    for seq in (1, 2, 5, 6, 10):
        st.count({"type": "correlation", "seq": seq}, now=START, measure_from=START)
    assert (st.gaps, st.missing, st.last_seq) == (2, 5, 10)
    # A full snapshot answering this client's request repeats the current seq: no jump.
    st.count({"type": "snapshot", "full": True, "seq": 9, "ts": START}, now=START,
             measure_from=START)
    st.count({"type": "snapshot", "seq": 11, "ts": START}, now=START, measure_from=START)
    assert (st.gaps, st.last_seq) == (2, 11)


def test_other_message_types_are_ignored():
    st = ClientStats()
    for kind in ("subscribed", "error", None):
        st.count({"type": kind, "seq": 50, "ts": START}, now=START + 1, measure_from=START)
    assert st.messages == 0 and st.last_seq == 0


def test_recent_latencies_keep_a_bounded_window():
    st = ClientStats()
    for k in range(100):
        st.count({"type": "snapshot", "seq": k + 1, "ts": START}, now=START + k,
                 measure_from=START)
    assert 20 <= len(st.recent) <= 40 and st.recent[-1] == 99.0
    assert len(st.latencies["snapshot"]) == 100


class FakeSocket:
    def __init__(self, messages: list[dict]) -> None:
        self.frames = [orjson.dumps(m) for m in messages]

    async def __aiter__(self):
        for frame in self.frames:
            yield frame


def test_the_reader_acknowledges_every_message_and_stops_at_the_stats_reply(monkeypatch):
    monkeypatch.setattr(clients.time, "time", lambda: START + 1)
    run = LoadRun(["ws://h/ws/pulse/"], ["k"], 1, duration=1.0, ramp=0.0, late=0.5)
    run.measure_from = START
    st = run.stats[0]
    socket = FakeSocket([{"type": "subscribed"}, {"type": "snapshot", "seq": 1, "ts": START},
                         {"type": "stats", "dropped_snapshots": 4},
                         {"type": "snapshot", "seq": 2, "ts": START}])
    asyncio.run(run._read(socket, st))
    assert st.received == 3 and st.messages == 1
    assert st.server == {"type": "stats", "dropped_snapshots": 4}
    assert st.latencies == {"snapshot": [1.0]}


@pytest.mark.parametrize(("url", "origin"), [("ws://127.0.0.1:8000/ws/pulse/",
                                               "http://127.0.0.1:8000"),
                                              ("wss://pulse.example/ws/pulse/",
                                               "https://pulse.example")])
def test_clients_send_the_origin_a_browser_on_that_host_would(url, origin):
    assert origin_of(url) == origin
