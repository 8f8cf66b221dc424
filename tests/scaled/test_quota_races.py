"""Two concurrent requests cannot both take a user's last quota slot (real PostgreSQL locks).

SQLite serializes writers, so the race only shows on PostgreSQL: a throwaway database, and
in a subprocess two threads (two connections) that call the watchlist operations at the
same moment. Each quota check is slowed down so the two transactions overlap; only the
owner's lock, taken before the check, keeps the second one from counting stale rows.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import require
from tests.scaled import services

pytestmark = pytest.mark.slow

RACE = """
import json, threading, time
from django.contrib.auth import get_user_model
from django.db import connection
from pulse.watchlists import operations as watchlists, quotas
from pulse.models import Instrument, Watchlist

alice = get_user_model().objects.create_user("alice")
first = watchlists.create(alice, "First")
second = watchlists.create(alice, "Second")


def slowed(check):
    def slow(*args, **kwargs):
        check(*args, **kwargs)
        time.sleep(0.5)  # the other request arrives while this one holds its slot
    return slow


quotas.check_watchlists = slowed(quotas.check_watchlists)
quotas.check_new_instruments = slowed(quotas.check_new_instruments)


def race(calls):
    outcomes = []
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            call()
            outcomes.append("ok")
        except quotas.QuotaExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(outcomes)


# Two new lists with one free slot (quota 3, two lists already).
lists = race([lambda: watchlists.create(alice, "A"), lambda: watchlists.create(alice, "B")])
# Two new instruments with one free slot (quota 1), on two different lists.
new = race([
    lambda: watchlists.add_instrument(first, Instrument(asset_class="crypto", symbol="X-USD")),
    lambda: watchlists.add_instrument(second, Instrument(asset_class="crypto", symbol="Y-USD")),
])
print(json.dumps({
    "lists": lists, "watchlists": Watchlist.objects.filter(owner=alice).count(),
    "new": new, "instruments": Instrument.objects.filter(created_by=alice).count(),
}))
"""


def test_concurrent_requests_cannot_both_take_the_last_slot():
    require(services.postgres_available(),
            f"PostgreSQL not reachable at {services.PG_ADMIN_URL}")
    env = services.scaled_env("", "")
    env.pop("REDIS_URL")
    env.update(PULSE_MAX_WATCHLISTS="3", PULSE_MAX_NEW_INSTRUMENTS_PER_DAY="1")
    with services.temp_database(env):
        out = services.manage(env, "shell", "-c", RACE, timeout=90)
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"lists": ["ok", "refused"], "watchlists": 3,
                      "new": ["ok", "refused"], "instruments": 1}
