"""End to end over real sockets: runpulse --serve, log in over HTTP, receive a snapshot."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
import websockets.sync.client

from tests.live_server import login, start_server, wait_for_http

pytestmark = pytest.mark.slow


def test_runpulse_serves_pages_and_pushes_snapshots_to_a_logged_in_socket(tmp_path, free_port):
    summary = tmp_path / "summary.json"
    proc = start_server(tmp_path, free_port, "--duration", "25", "--summary", str(summary))
    base = f"http://127.0.0.1:{free_port}"
    try:
        wait_for_http(base + "/accounts/login/", proc)
        # Pages require a login.
        with pytest.raises(urllib.error.HTTPError) as redirect:
            urllib.request.build_opener(NoRedirect).open(base + "/", timeout=5)
        assert redirect.value.code == 302
        assert "/accounts/login/" in redirect.value.headers["Location"]

        jar = login(base, "demo", "demo")
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        with websockets.sync.client.connect(
            f"ws://127.0.0.1:{free_port}/ws/pulse/",
            additional_headers={"Cookie": cookie, "Origin": base},
            open_timeout=10,
        ) as ws:
            hello = json.loads(ws.recv(timeout=10))
            assert hello["type"] == "hello" and hello["user"] == "demo"
            deadline = time.monotonic() + 3.0
            seen: dict[str, dict] = {}
            while time.monotonic() < deadline and len(seen) < 10:
                message = json.loads(ws.recv(timeout=max(0.05, deadline - time.monotonic())))
                if message["type"] == "snapshot":
                    seen.update({row["symbol"]: row for row in message["rows"]})
            assert len(seen) >= 10, f"only {len(seen)} symbols within 3 s"
            row = seen.get("BTC-USD") or next(iter(seen.values()))
            assert row["last"] > 0 and row["asset"] in {"stocks", "forex", "crypto"}

        # Without the session cookie the socket is closed with 4401.
        with websockets.sync.client.connect(
            f"ws://127.0.0.1:{free_port}/ws/pulse/", additional_headers={"Origin": base}
        ) as ws, pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd.code == 4401

        assert proc.wait(timeout=40) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    data = json.loads(summary.read_text())
    for key in ("ticks", "seconds", "ticks_per_second", "symbols", "feeds", "events",
                "correlation"):
        assert key in data
    assert data["ticks"] > 0 and set(data["events"]) >= {"emitted", "persisted"}
    assert data["feeds"]["simulator"]["state"] in {"live", "stopped"}
    assert all({"asset", "last"} <= set(snap) for snap in data["symbols"].values())
    assert len(data["correlation"]["matrix"]) == len(data["correlation"]["symbols"]) > 1


def test_sigterm_stops_cleanly_and_writes_the_summary(tmp_path, free_port):
    import signal

    summary = tmp_path / "summary.json"
    proc = start_server(tmp_path, free_port, "--summary", str(summary))
    try:
        base = f"http://127.0.0.1:{free_port}"
        wait_for_http(base + "/accounts/login/", proc)
        cookie = "; ".join(f"{c.name}={c.value}" for c in login(base, "demo", "demo"))
        with websockets.sync.client.connect(
            f"ws://127.0.0.1:{free_port}/ws/pulse/",
            additional_headers={"Cookie": cookie, "Origin": base}, open_timeout=10,
        ) as ws:  # a snapshot on the page: the engine has processed ticks
            while json.loads(ws.recv(timeout=20))["type"] != "snapshot":
                pass
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert json.loads(summary.read_text())["ticks"] > 0


def test_a_taken_port_exits_non_zero_with_a_reason(tmp_path, free_port):
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", free_port))
        blocker.listen()
        proc = start_server(tmp_path, free_port, "--duration", "20")
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert f"could not listen on 127.0.0.1:{free_port}" in out


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
