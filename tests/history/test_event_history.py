"""The event history page: filters in the query string, pagination, bad input, sharing."""

from __future__ import annotations

import datetime as dt

import pytest

from pulse.models import Event
from tests.factories import T0, make_event, make_watchlist

pytestmark = pytest.mark.django_db


@pytest.fixture
def events() -> dict[str, Event]:
    """Five events over three days, mixed symbols, classes, types and severities."""
    return {
        "aapl": make_event("AAPL", ts=T0),
        "msft": make_event("MSFT", ts=T0 + dt.timedelta(hours=1), type="vol_spike",
                           severity="critical"),
        "eur": make_event("EURUSD", "forex", ts=T0 - dt.timedelta(days=1), direction="down"),
        "btc": make_event("BTC-USD", "crypto", ts=T0 + dt.timedelta(days=1), type="move_5m"),
        "aapl_old": make_event("AAPL", ts=T0 - dt.timedelta(days=2), severity="critical"),
    }


def shown(response) -> list[str]:
    """Return the event_ids on the page, in order."""
    return [event.event_id for event in response.context["page"].object_list]


def ids(*events: Event) -> list[str]:
    return [event.event_id for event in events]


def test_it_lists_every_event_newest_first_to_any_user(events, alice_client, bob_client):
    for client in (alice_client, bob_client):
        response = client.get("/events/")
        assert response.status_code == 200
        assert shown(response) == ids(events["btc"], events["msft"], events["aapl"],
                                      events["eur"], events["aapl_old"])
    body = response.content.decode()
    assert f'href="/events/{events["msft"].pk}/"' in body
    assert "+1.23%" in body  # the move shown as a percentage


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"symbol": "aapl"}, ["aapl", "aapl_old"]),
        ({"type": "vol_spike"}, ["msft"]),
        ({"asset_class": "forex"}, ["eur"]),
        ({"severity": "critical"}, ["msft", "aapl_old"]),
        ({"symbol": "AAPL", "severity": "critical"}, ["aapl_old"]),
        ({"date_from": "2026-11-23"}, ["btc", "msft", "aapl"]),
        ({"date_to": "2026-11-23"}, ["msft", "aapl", "eur", "aapl_old"]),  # the whole day
        ({"date_from": "2026-11-23", "date_to": "2026-11-23"}, ["msft", "aapl"]),
        ({"date_from": "2026-11-23T12:30", "date_to": "2026-11-24T12:00:00Z"},
         ["btc", "msft"]),
        ({"date_to": "2026-11-23 12:00"}, ["aapl", "eur", "aapl_old"]),  # inclusive
        ({"symbol": "NOPE"}, []),
    ],
)
def test_filters_narrow_the_list(events, alice_client, query, expected):
    response = alice_client.get("/events/", query)
    assert response.status_code == 200
    assert shown(response) == [events[name].event_id for name in expected]


def test_only_my_watchlist_uses_my_active_list_not_bobs(alice, bob, events, alice_client,
                                                        bob_client):
    make_watchlist(alice, "Tech", [("stocks", "AAPL")], default=True)
    make_watchlist(alice, "Other", [("forex", "EURUSD")])  # not active: ignored
    make_watchlist(bob, "Bob", [("crypto", "BTC-USD")], default=True)
    assert shown(alice_client.get("/events/?mine=on")) == ids(events["aapl"], events["aapl_old"])
    assert shown(bob_client.get("/events/?mine=on")) == ids(events["btc"])


def test_only_my_watchlist_matches_the_asset_class_too(alice, alice_client):
    make_watchlist(alice, "Tech", [("stocks", "ETH")], default=True)
    make_event("ETH", "crypto")
    stock = make_event("ETH", "stocks")
    assert shown(alice_client.get("/events/?mine=1")) == ids(stock)


def test_only_my_watchlist_without_an_active_list_says_so(events, alice_client):
    response = alice_client.get("/events/?mine=on")
    assert response.status_code == 200 and shown(response) == []
    assert "no active watchlist" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2026-13-01"}, "date_to"),
        ({"date_from": "0001-01-01"}, "date_from"),
        ({"date_to": "9999-12-31"}, "date_to"),
        ({"date_from": "2026-11-24", "date_to": "2026-11-23T00:00"}, "date_to"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"asset_class": "bonds"}, "asset_class"),
        ({"symbol": "A'; DROP TABLE"}, "symbol"),
        ({"symbol": "X" * 40}, "symbol"),
        ({"type": "Move 1m!"}, "type"),
    ],
)
def test_bad_filters_are_visible_form_errors_not_500s(events, alice_client, query, field):
    response = alice_client.get("/events/", query)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'role="alert"' in response.content.decode()
    assert response.context["page"] is None


def test_pagination_is_50_per_page_stable_and_keeps_the_filters(alice_client):
    for i in range(120):
        # Pairs of events at the same instant: the id breaks the tie.
        make_event("AAPL", ts=T0 + dt.timedelta(seconds=i // 2))
    make_event("MSFT", ts=T0)
    first = alice_client.get("/events/?symbol=AAPL")
    page = first.context["page"]
    assert page.paginator.count == 120 and page.paginator.num_pages == 3
    assert len(page.object_list) == 50
    assert "?symbol=AAPL&amp;page=2" in first.content.decode()
    seen = []
    for number in (1, 2, 3):
        response = alice_client.get(f"/events/?symbol=AAPL&page={number}")
        seen += [(e.ts, e.pk) for e in response.context["page"].object_list]
    assert len(seen) == len(set(seen)) == 120
    assert seen == sorted(seen, reverse=True)  # -ts, -id across pages


@pytest.mark.parametrize("page", ["999", "abc", "-1", ""])
def test_out_of_range_or_bad_page_numbers_still_render(events, alice_client, page):
    assert alice_client.get(f"/events/?page={page}").status_code == 200


def test_the_export_link_carries_the_same_filters(events, alice_client):
    body = alice_client.get("/events/?symbol=AAPL&severity=critical&page=1").content.decode()
    assert 'href="/events/export.csv?symbol=AAPL&amp;severity=critical"' in body
