"""Per-user quotas through the watchlist pages, the admin and the operations behind both.

The limits are lowered per test (``settings`` fixture) so a handful of rows reach them.
alice and bob are ordinary users; carol is staff (exempt); root is a superuser (exempt).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from pulse.models import Instrument, Watchlist
from pulse.watchlists import operations as watchlists
from pulse.watchlists import quotas
from pulse_site.env import env_int
from tests.conftest import REPO
from tests.factories import instrument, make_watchlist, order
from tests.watchlists.test_admin import ADMIN, change_data

pytestmark = pytest.mark.django_db


def add(client, watchlist: Watchlist, symbol: str):
    return client.post(f"/watchlists/{watchlist.pk}/items/add/", {"symbol": symbol})


def created_by(user, **kwargs) -> list[str]:
    return sorted(Instrument.objects.filter(created_by=user, **kwargs)
                  .values_list("symbol", flat=True))


# Watchlists per user -----------------------------------------------------------------------


def test_the_watchlist_page_refuses_a_watchlist_over_the_quota(limits, alice, alice_client):
    for name in ("One", "Two"):
        assert alice_client.post("/watchlists/new/", {"name": name}).status_code == 302
    response = alice_client.post("/watchlists/new/", {"name": "Three"})
    assert response.status_code == 400
    assert "You have 2 watchlists, the most allowed is 2" in response.content.decode()
    assert response.context["create_form"].non_field_errors()
    assert sorted(Watchlist.objects.filter(owner=alice).values_list("name", flat=True)) == [
        "One", "Two"]
    # Deleting one frees a slot.
    alice_client.post(f"/watchlists/{Watchlist.objects.get(name='One').pk}/delete/")
    assert alice_client.post("/watchlists/new/", {"name": "Three"}).status_code == 302


def test_another_users_watchlists_do_not_count(limits, alice, bob_client, bob):
    make_watchlist(alice, "A1", default=True)
    make_watchlist(alice, "A2")
    assert bob_client.post("/watchlists/new/", {"name": "B1"}).status_code == 302
    assert bob_client.post("/watchlists/new/", {"name": "B2"}).status_code == 302
    assert bob_client.post("/watchlists/new/", {"name": "B3"}).status_code == 400
    assert Watchlist.objects.filter(owner=bob).count() == 2


def test_the_operation_itself_refuses_and_names_the_setting(limits, alice):
    watchlists.create(alice, "One")
    watchlists.create(alice, "Two")
    with pytest.raises(quotas.QuotaExceeded) as refused:
        watchlists.create(alice, "Three")
    assert refused.value.setting == "PULSE_MAX_WATCHLISTS" and refused.value.limit == 2
    assert refused.value.detail()["limit"] == "PULSE_MAX_WATCHLISTS"
    assert Watchlist.objects.filter(owner=alice).count() == 2


# Symbols per watchlist ---------------------------------------------------------------------


def test_the_detail_page_refuses_a_symbol_over_the_quota(limits, alice, alice_client):
    tech = make_watchlist(alice, "Tech", [("stocks", s) for s in ("AAPL", "MSFT", "TSLA")],
                          default=True)
    instrument("NVDA")
    response = add(alice_client, tech, "NVDA")
    assert response.status_code == 400
    assert "A watchlist holds at most 3 symbols" in response.content.decode()
    assert order(tech) == ["AAPL", "MSFT", "TSLA"]
    # A new symbol refused for a full list is not created either.
    assert add(alice_client, tech, "crypto:NEW-USD").status_code == 400
    assert not Instrument.objects.filter(symbol="NEW-USD").exists()
    # Removing one makes room.
    alice_client.post(f"/watchlists/{tech.pk}/items/{tech.items.first().pk}/remove/")
    assert add(alice_client, tech, "NVDA").status_code == 302


def test_replace_refuses_too_many_symbols_and_keeps_the_list(limits, alice):
    tech = make_watchlist(alice, "Tech", [("stocks", "AAPL")], default=True)
    many = [instrument(s) for s in ("MSFT", "TSLA", "NVDA", "AMD")]
    with pytest.raises(quotas.QuotaExceeded, match="at most 3 symbols"):
        watchlists.replace_instruments(tech, many)
    assert order(tech) == ["AAPL"]
    watchlists.replace_instruments(tech, many[:3])
    assert order(tech) == ["MSFT", "TSLA", "NVDA"]


# New instruments per rolling 24 h ----------------------------------------------------------


def test_the_detail_page_refuses_a_new_instrument_over_the_daily_quota(limits, alice,
                                                                       alice_client):
    tech = make_watchlist(alice, "Tech", default=True)
    other = make_watchlist(alice, "Other")
    assert add(alice_client, tech, "crypto:AAA-USD").status_code == 302
    assert add(alice_client, other, "crypto:BBB-USD").status_code == 302  # any list counts
    response = add(alice_client, tech, "crypto:CCC-USD")
    assert response.status_code == 400
    body = response.content.decode()
    assert "at most 2 symbols new to Market Pulse in 24 hours and have added 2" in body
    assert "try again after" in body
    assert not Instrument.objects.filter(symbol="CCC-USD").exists()
    assert order(tech) == ["AAA-USD"]
    assert created_by(alice) == ["AAA-USD", "BBB-USD"]


def test_existing_instruments_never_count_against_the_daily_quota(limits, alice, bob,
                                                                  alice_client):
    tech = make_watchlist(alice, "Tech", default=True)
    instrument("AAPL")  # setup_demo / ingest / admin: no creator
    bobs = Instrument.objects.create(asset_class="crypto", symbol="BOB-USD", created_by=bob)
    for symbol in ("crypto:AAA-USD", "crypto:BBB-USD"):  # alice's quota, used up
        assert add(alice_client, tech, symbol).status_code == 302
    # Known symbols, by name or class:SYMBOL, whoever created them, are still fine.
    assert add(alice_client, tech, "stocks:AAPL").status_code == 302
    other = make_watchlist(alice, "Other")
    assert add(alice_client, other, "crypto:BOB-USD").status_code == 302
    assert add(alice_client, other, "crypto:AAA-USD").status_code == 302  # her own, again
    assert add(alice_client, other, "crypto:CCC-USD").status_code == 400  # a new one is not
    assert created_by(alice) == ["AAA-USD", "BBB-USD"]
    bobs.refresh_from_db()
    assert bobs.created_by == bob


def test_another_users_new_instruments_do_not_use_my_quota(limits, alice, bob, alice_client):
    now = timezone.now()
    for symbol in ("B1-USD", "B2-USD", "B3-USD"):
        Instrument.objects.create(asset_class="crypto", symbol=symbol, created_by=bob,
                                  created_at=now)
    tech = make_watchlist(alice, "Tech", default=True)
    assert add(alice_client, tech, "crypto:A1-USD").status_code == 302
    assert add(alice_client, tech, "crypto:A2-USD").status_code == 302
    assert add(alice_client, tech, "crypto:A3-USD").status_code == 400  # hers are counted
    assert created_by(alice) == ["A1-USD", "A2-USD"]


def test_the_daily_quota_is_a_rolling_24_hour_window(limits, alice, alice_client):
    now = timezone.now()
    Instrument.objects.create(asset_class="crypto", symbol="OLD1-USD", created_by=alice,
                              created_at=now - dt.timedelta(hours=25))
    Instrument.objects.create(asset_class="crypto", symbol="OLD2-USD", created_by=alice,
                              created_at=now - dt.timedelta(hours=24, minutes=1))
    recent = Instrument.objects.create(asset_class="crypto", symbol="NEW1-USD",
                                       created_by=alice,
                                       created_at=now - dt.timedelta(hours=23))
    tech = make_watchlist(alice, "Tech", default=True)
    # Only NEW1 is inside the window: one more is allowed, not two.
    assert add(alice_client, tech, "crypto:NEW2-USD").status_code == 302
    response = add(alice_client, tech, "crypto:NEW3-USD")
    assert response.status_code == 400
    # The slot frees when the oldest creation inside the window turns 24 hours old.
    frees = recent.created_at + dt.timedelta(hours=24)
    assert f"try again after {frees:%Y-%m-%d %H:%M:%S} UTC" in response.content.decode()
    assert not Instrument.objects.filter(symbol="NEW3-USD").exists()
    # Once NEW1 ages out of the window, a slot frees up.
    Instrument.objects.filter(pk=recent.pk).update(created_at=now - dt.timedelta(hours=25))
    assert add(alice_client, tech, "crypto:NEW3-USD").status_code == 302


def test_instruments_created_without_a_user_record_no_creator(alice, alice_client):
    tech = make_watchlist(alice, "Tech", default=True)
    before = timezone.now()
    add(alice_client, tech, "crypto:SOL-USD")
    sol = Instrument.objects.get(symbol="SOL-USD")
    assert sol.created_by == alice and sol.created_at >= before
    assert instrument("AAPL").created_by is None  # e.g. setup_demo's get_or_create


def test_deleting_the_creator_keeps_the_instrument(alice, alice_client):
    tech = make_watchlist(alice, "Tech", default=True)
    add(alice_client, tech, "crypto:SOL-USD")
    alice.delete()
    assert Instrument.objects.get(symbol="SOL-USD").created_by is None


# Staff exemption ---------------------------------------------------------------------------


def test_staff_and_superusers_are_exempt_from_every_quota(limits, alice, carol, carol_client,
                                                          django_user_model):
    watchlists.create(alice, "One")
    watchlists.create(alice, "Two")
    with pytest.raises(quotas.QuotaExceeded):  # the same limits hold for an ordinary user
        watchlists.create(alice, "Three")
    for name in ("One", "Two", "Three"):
        assert carol_client.post("/watchlists/new/", {"name": name}).status_code == 302
    tech = Watchlist.objects.get(owner=carol, name="One")
    for symbol in ("crypto:C1-USD", "crypto:C2-USD", "crypto:C3-USD", "crypto:C4-USD"):
        assert add(carol_client, tech, symbol).status_code == 302
    assert len(order(tech)) == 4 and created_by(carol) == ["C1-USD", "C2-USD", "C3-USD",
                                                          "C4-USD"]
    root = django_user_model.objects.create_superuser("root2", password="x-pass-123")
    for name in ("One", "Two", "Three"):
        watchlists.create(root, name)
    assert Watchlist.objects.filter(owner=root).count() == 3
    listed = watchlists.create(root, "Big")
    watchlists.replace_instruments(listed, [Instrument(asset_class="crypto", symbol=f"R{i}-USD")
                                            for i in range(5)])
    assert len(order(listed)) == 5 and len(created_by(root)) == 5


def test_losing_staff_status_brings_the_quotas_back(limits, carol, carol_client):
    for name in ("One", "Two", "Three"):
        carol_client.post("/watchlists/new/", {"name": name})
    carol.is_staff = False
    carol.save()
    response = carol_client.post("/watchlists/new/", {"name": "Four"})
    assert response.status_code == 400 and "You have 3 watchlists" in response.content.decode()


# Admin -------------------------------------------------------------------------------------


def test_admin_refuses_a_watchlist_over_the_owners_quota(limits, alice, root_client):
    make_watchlist(alice, "A1", default=True)
    make_watchlist(alice, "A2")
    data = change_data(Watchlist(name="A3"), [], owner=str(alice.pk))
    response = root_client.post(f"{ADMIN}add/", data)
    assert response.status_code == 200
    assert "You have 2 watchlists, the most allowed is 2" in response.content.decode()
    assert Watchlist.objects.filter(owner=alice).count() == 2


def test_admin_refuses_giving_a_list_to_an_owner_at_the_quota(limits, alice, bob,
                                                              root_client):
    make_watchlist(alice, "A1", default=True)
    make_watchlist(alice, "A2")
    bobs = make_watchlist(bob, "B1", default=True)
    response = root_client.post(f"{ADMIN}{bobs.pk}/change/",
                                change_data(bobs, owner=str(alice.pk)))
    assert response.status_code == 200
    assert "the most allowed is 2" in response.content.decode()
    bobs.refresh_from_db()
    assert bobs.owner == bob
    # Renaming a list of an owner at the quota is fine: it is not one more.
    alices = Watchlist.objects.get(name="A1")
    response = root_client.post(f"{ADMIN}{alices.pk}/change/",
                                change_data(alices, name="Renamed", owner=str(alice.pk)))
    assert response.status_code == 302


def test_admin_refuses_symbols_over_the_owners_quota(limits, alice, root_client):
    tech = make_watchlist(alice, "Tech", [("stocks", s) for s in ("AAPL", "MSFT", "TSLA")],
                          default=True)
    existing = [{"id": item.pk, "instrument": item.instrument_id, "position": item.position}
                for item in tech.items.order_by("position")]
    extra = [{"instrument": instrument("NVDA").pk, "position": 3}]
    url = f"{ADMIN}{tech.pk}/change/"
    response = root_client.post(url, change_data(tech, existing + extra, owner=str(alice.pk)))
    assert response.status_code == 200
    assert "A watchlist holds at most 3 symbols (4 asked)" in response.content.decode()
    assert order(tech) == ["AAPL", "MSFT", "TSLA"]
    # Replacing one (delete + add in the same save) stays within the quota.
    existing[0]["DELETE"] = "on"
    response = root_client.post(url, change_data(tech, existing + extra, owner=str(alice.pk)))
    assert response.status_code == 302
    assert order(tech) == ["MSFT", "TSLA", "NVDA"]


def test_admin_staff_editing_their_own_lists_are_exempt(limits, alice, carol, carol_client,
                                                        root_client):
    make_watchlist(carol, "C1", default=True)
    make_watchlist(carol, "C2")
    items = [{"instrument": instrument(s).pk, "position": i}
             for i, s in enumerate(("AAPL", "MSFT", "TSLA", "NVDA"))]
    data = change_data(Watchlist(name="C3"), items)
    data = {key: value for key, value in data.items() if not key.endswith("-watchlist")}
    response = carol_client.post(f"{ADMIN}add/", data)
    assert response.status_code == 302
    assert len(order(Watchlist.objects.get(owner=carol, name="C3"))) == 4
    # The same list for an ordinary owner is refused (4 symbols, quota 3).
    response = root_client.post(f"{ADMIN}add/", {**data, "owner": str(alice.pk)})
    assert response.status_code == 200 and "at most 3 symbols" in response.content.decode()
    assert not Watchlist.objects.filter(owner=alice).exists()


# Settings ----------------------------------------------------------------------------------


def test_env_int_rejects_garbage_fractions_zero_and_negatives():
    assert env_int("N", 7, minimum=1, environ={}) == 7
    assert env_int("N", 7, minimum=1, environ={"N": " 12 "}) == 12
    for bad in ("abc", "1.5", "0", "-3", "nan"):
        with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
            env_int("N", 7, minimum=1, environ={"N": bad})


def quota_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = ("import json; from pulse_site import settings as s; print(json.dumps("
            "[s.PULSE_MAX_WATCHLISTS, s.PULSE_MAX_WATCHLIST_SYMBOLS,"
            " s.PULSE_MAX_NEW_INSTRUMENTS_PER_DAY]))")
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("PULSE_MAX_") and k not in {"DEBUG", "DATABASE_URL",
                                                             "REDIS_URL"}}
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_quota_settings_default_and_read_the_environment():
    out = quota_settings({})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [50, 200, 20]
    out = quota_settings({"PULSE_MAX_WATCHLISTS": "5", "PULSE_MAX_WATCHLIST_SYMBOLS": "30",
                          "PULSE_MAX_NEW_INSTRUMENTS_PER_DAY": "1"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [5, 30, 1]


@pytest.mark.parametrize(("name", "value"), [
    ("PULSE_MAX_WATCHLISTS", "0"), ("PULSE_MAX_WATCHLIST_SYMBOLS", "-1"),
    ("PULSE_MAX_NEW_INSTRUMENTS_PER_DAY", "ten"), ("PULSE_MAX_WATCHLISTS", "2.5"),
])
def test_bad_quota_settings_stop_the_app_at_startup(name, value):
    out = quota_settings({name: value})
    assert out.returncode != 0
    assert f"{name} must be a whole number" in out.stderr
