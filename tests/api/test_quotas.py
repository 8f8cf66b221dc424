"""Per-user quotas over the REST API: 400 ``quota_exceeded`` naming the limit, nothing written.

The limits are lowered per test; carol is staff and therefore exempt.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from pulse.api import tokens
from pulse.models import Instrument, Watchlist
from tests.api.test_rest import api, send
from tests.factories import instrument, make_watchlist, order

pytestmark = pytest.mark.django_db

URL = "/api/v1/watchlists"


def refused(response, setting: str, limit: int) -> str:
    """Assert ``response`` is the quota error for ``setting``; return its message."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "quota_exceeded"
    assert body["detail"]["limit"] == setting and body["detail"]["max"] == limit
    return body["detail"]["message"]


def test_creating_a_watchlist_over_the_quota_is_refused(limits, alice, alice_token):
    client = api(alice_token)
    assert send(client, "post", URL, {"name": "One"}).status_code == 201
    assert send(client, "post", URL, {"name": "Two"}).status_code == 201
    message = refused(send(client, "post", URL, {"name": "Three", "symbols": ["crypto:X-USD"]}),
                      "PULSE_MAX_WATCHLISTS", 2)
    assert "You have 2 watchlists" in message
    assert Watchlist.objects.filter(owner=alice).count() == 2
    assert not Instrument.objects.filter(symbol="X-USD").exists()


def test_too_many_symbols_are_refused_on_create_and_replace(limits, alice, alice_token):
    for symbol in ("AAPL", "MSFT", "TSLA", "NVDA"):
        instrument(symbol)
    client = api(alice_token)
    four = ["AAPL", "MSFT", "TSLA", "NVDA"]
    message = refused(send(client, "post", URL, {"name": "Tech", "symbols": four}),
                      "PULSE_MAX_WATCHLIST_SYMBOLS", 3)
    assert "at most 3 symbols (4 asked)" in message
    assert not Watchlist.objects.filter(owner=alice).exists()
    tech = make_watchlist(alice, "Tech", [("stocks", "AAPL")], default=True)
    refused(send(client, "patch", f"{URL}/{tech.pk}", {"name": "Renamed", "symbols": four}),
            "PULSE_MAX_WATCHLIST_SYMBOLS", 3)
    tech.refresh_from_db()
    assert tech.name == "Tech" and order(tech) == ["AAPL"]
    assert send(client, "patch", f"{URL}/{tech.pk}", {"symbols": four[:3]}).status_code == 200
    assert order(tech) == ["AAPL", "MSFT", "TSLA"]


def test_new_instruments_over_the_daily_quota_write_nothing(limits, alice, alice_token):
    instrument("AAPL")
    client = api(alice_token)
    body = {"name": "Crypto", "symbols": ["AAPL", "crypto:A-USD", "crypto:B-USD"]}
    assert send(client, "post", URL, body).status_code == 201
    assert sorted(Instrument.objects.filter(created_by=alice)
                  .values_list("symbol", flat=True)) == ["A-USD", "B-USD"]
    message = refused(send(client, "post", URL, {"name": "More", "symbols": ["crypto:C-USD"]}),
                      "PULSE_MAX_NEW_INSTRUMENTS_PER_DAY", 2)
    assert "have added 2" in message
    assert not Watchlist.objects.filter(owner=alice, name="More").exists()  # not half-created
    crypto = Watchlist.objects.get(owner=alice, name="Crypto")
    refused(send(client, "patch", f"{URL}/{crypto.pk}", {"symbols": ["crypto:C-USD"]}),
            "PULSE_MAX_NEW_INSTRUMENTS_PER_DAY", 2)
    assert order(crypto) == ["AAPL", "A-USD", "B-USD"]
    assert not Instrument.objects.filter(symbol="C-USD").exists()
    # Known instruments are never limited.
    response = send(client, "patch", f"{URL}/{crypto.pk}", {"symbols": ["crypto:B-USD", "AAPL"]})
    assert response.status_code == 200 and order(crypto) == ["B-USD", "AAPL"]


def test_the_daily_quota_counts_a_batch_and_forgets_old_creations(limits, alice, bob,
                                                                   alice_token):
    old = timezone.now() - dt.timedelta(hours=30)
    for symbol in ("OLD1-USD", "OLD2-USD"):
        Instrument.objects.create(asset_class="crypto", symbol=symbol, created_by=alice,
                                  created_at=old)
    for symbol in ("BOB1-USD", "BOB2-USD"):  # bob's creations are his, not alice's
        Instrument.objects.create(asset_class="crypto", symbol=symbol, created_by=bob)
    client = api(alice_token)
    three = ["crypto:N1-USD", "crypto:N2-USD", "crypto:N3-USD"]
    message = refused(send(client, "post", URL, {"name": "New", "symbols": three}),
                      "PULSE_MAX_NEW_INSTRUMENTS_PER_DAY", 2)
    assert "have added 0 (3 more asked)" in message
    assert not Instrument.objects.filter(symbol__startswith="N").exists()
    assert send(client, "post", URL, {"name": "New", "symbols": three[:2]}).status_code == 201


def test_staff_tokens_are_exempt(limits, carol_staff, alice_token):
    symbols = [f"crypto:S{i}-USD" for i in range(5)]
    # An ordinary user's token meets the limits...
    response = send(api(alice_token), "post", URL, {"name": "Big", "symbols": symbols})
    refused(response, "PULSE_MAX_WATCHLIST_SYMBOLS", 3)
    # ...which a staff user's does not: more lists, symbols and new instruments.
    client = api(tokens.create(carol_staff, "staff bot")[1])
    for name in ("One", "Two", "Three"):
        assert send(client, "post", URL, {"name": name}).status_code == 201
    response = send(client, "post", URL, {"name": "Big", "symbols": symbols})
    assert response.status_code == 201 and len(response.json()["symbols"]) == 5
    assert Instrument.objects.filter(created_by=carol_staff).count() == 5


@pytest.fixture
def carol_staff(django_user_model):
    return django_user_model.objects.create_user("carol", password="carol-pass-123",
                                                 is_staff=True)
