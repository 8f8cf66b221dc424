"""The dashboard and symbol pages: login, ownership of watchlists, controls, 404s."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from pulse.models import Event, Instrument, Watchlist, WatchlistItem

pytestmark = pytest.mark.django_db


def watchlist(user, name: str, symbols: list[tuple[str, str]], default: bool = True):
    w = Watchlist.objects.create(owner=user, name=name, is_default=default)
    for i, (asset, symbol) in enumerate(symbols):
        inst, _ = Instrument.objects.get_or_create(asset_class=asset, symbol=symbol)
        WatchlistItem.objects.create(watchlist=w, instrument=inst, position=i)
    return w


def event(symbol: str, asset: str, minutes_ago: int, **extra) -> Event:
    ts = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    return Event.objects.create(
        event_id=f"{symbol}|move_1m|up|{minutes_ago}", symbol=symbol, asset_class=asset,
        type="move_1m", direction="up", severity="warning", ts=ts, value=0.012,
        threshold=0.01, z=3.1, window=60, regime="normal", price=101.0,
        message=f"{symbol} rose", details={"ref_price": 99.8, "ref_age": 60.2}, **extra)


def test_pages_require_login(client):
    for url in ("/", "/symbols/stocks/AAPL/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_dashboard_lists_only_the_users_watchlists(client, alice, bob):
    mine = watchlist(alice, "Tech", [("stocks", "AAPL")])
    watchlist(bob, "Bob secret", [("crypto", "BTC-USD")])
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert "Tech" in page and "Bob secret" not in page
    assert f'data-watchlist="{mine.pk}"' in page


def test_bobs_watchlist_id_is_a_404_for_alice(client, alice, bob):
    bobs = watchlist(bob, "Bob secret", [("crypto", "BTC-USD")])
    client.force_login(alice)
    assert client.get(f"/?watchlist={bobs.pk}").status_code == 404
    assert client.get("/?watchlist=abc").status_code == 404


def test_dashboard_controls_come_from_the_url_and_bad_values_fall_back(client, alice):
    client.force_login(alice)
    page = client.get("/?asset=crypto&rank=1m&top=50&bucket=20&base=ETH-USD").content.decode()
    for attr in ('data-asset="crypto"', 'data-rank="1m"', 'data-top="50"',
                 'data-bucket="20"', 'data-base="ETH-USD"'):
        assert attr in page
    page = client.get("/?asset=bonds&rank=2h&top=-1&bucket=15").content.decode()
    for attr in ('data-asset="all"', 'data-rank="5m"', 'data-top="20"', 'data-bucket="0"'):
        assert attr in page


def test_the_stress_feed_starts_with_the_watchlists_stored_events(client, alice):
    watchlist(alice, "Tech", [("stocks", "AAPL")])
    kept = event("AAPL", "stocks", 5)
    event("BTC-USD", "crypto", 3)  # not in alice's list
    client.force_login(alice)
    response = client.get("/")
    cards = response.context["recent_events"]
    assert [c["symbol"] for c in cards] == ["AAPL"]
    assert cards[0]["url"] == reverse("event_detail", args=[kept.pk])
    assert cards[0]["ref_price"] == 99.8 and cards[0]["threshold"] == 0.01


def test_the_symbol_page_shows_metrics_and_the_newest_twenty_events(client, alice):
    Instrument.objects.create(asset_class="stocks", symbol="AAPL", display_name="Apple Inc.")
    for minutes in range(25):
        event("AAPL", "stocks", minutes)
    client.force_login(alice)
    response = client.get(reverse("symbol", args=["stocks", "AAPL"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Apple Inc." in page and 'data-key="vol_15m"' in page
    assert "uplot-1.6.31/uPlot.iife.min.js" in page
    events = response.context["events"]
    assert len(events) == 20 and events[0].ts > events[-1].ts


def test_unknown_symbols_and_classes_are_404_not_500(client, alice):
    Instrument.objects.create(asset_class="stocks", symbol="AAPL")
    client.force_login(alice)
    assert client.get("/symbols/stocks/NOPE/").status_code == 404
    assert client.get("/symbols/crypto/AAPL/").status_code == 404  # wrong class
    assert client.get("/symbols/bonds/AAPL/").status_code == 404
