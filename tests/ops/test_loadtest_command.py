"""The load benchmark command's building blocks (the benchmark itself is not a test)."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pulse.ops.loadtest.processes import find_pids, sample_process
from pulse.ops.loadtest.report import percentile
from pulse.ops.loadtest.sessions import create_sessions, delete_sessions


@pytest.mark.django_db
def test_sessions_created_for_the_run_log_in_and_are_deleted_after(client, alice):
    keys = create_sessions(3)
    assert len(set(keys)) == 3
    client.cookies["sessionid"] = keys[0]
    page = client.get("/")
    assert page.status_code == 200 and page.wsgi_request.user.username == "loadtest-0"
    assert create_sessions(1)[0] not in keys  # users are reused, sessions are fresh
    delete_sessions(keys)
    client.cookies["sessionid"] = keys[0]
    assert client.get("/").status_code == 302  # back to the login page


def test_percentile_uses_nearest_rank_and_handles_empty_input():
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 0.99) == 99.0 and percentile(values, 1.0) == 100.0


def test_process_samples_read_cpu_and_memory_from_proc():
    me = sample_process(os.getpid())
    assert me is not None and me.cpu > 0 and me.rss > 10 * 2**20 and me.hwm >= me.rss
    assert sample_process(2**22 + 12345) is None
    assert os.getpid() not in find_pids(["pytest"])  # never measures itself by accident


@pytest.mark.parametrize("args", [
    ["--url", "http://127.0.0.1:1/ws/pulse/"],
    ["--url", "ws://127.0.0.1:1/ws/pulse/", "--clients", "0"],
    ["--url", "ws://127.0.0.1:1/ws/pulse/", "--duration", "-1"],
    ["--url", "ws://127.0.0.1:1/ws/pulse/", "--pids", "12,abc"],
])
def test_loadtest_rejects_bad_arguments_before_touching_anything(args):
    with pytest.raises(CommandError):
        call_command("loadtest", *args)
