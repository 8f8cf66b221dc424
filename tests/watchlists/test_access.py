"""Who may reach what: anonymous users go to login; nobody reaches another user's lists."""

from __future__ import annotations

import pytest
from django.test import Client

from pulse.models import Watchlist
from tests.factories import make_event, make_watchlist, order

pytestmark = pytest.mark.django_db

# Every watchlist URL, with {pk} and {item} to fill in.
WATCHLIST_URLS = [
    "/watchlists/{pk}/",
    "/watchlists/{pk}/rename/",
    "/watchlists/{pk}/delete/",
    "/watchlists/{pk}/activate/",
    "/watchlists/{pk}/items/add/",
    "/watchlists/{pk}/items/reorder/",
    "/watchlists/{pk}/items/{item}/remove/",
    "/watchlists/{pk}/items/{item}/move/",
]


@pytest.fixture
def bobs_list(bob):
    """bob's default list: alice must not be able to read or change it."""
    return make_watchlist(bob, "Bob private", [("stocks", "AAPL"), ("stocks", "MSFT")],
                          default=True)


@pytest.mark.parametrize("template", WATCHLIST_URLS)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_another_users_watchlist_is_404_on_every_url_and_method(
    alice_client, bobs_list, template, method
):
    item = bobs_list.items.first()
    url = template.format(pk=bobs_list.pk, item=item.pk)
    data = {"name": "Hijacked", "symbol": "TSLA", "asset_class": "stocks",
            "direction": "down", "order": f"{item.pk}"}
    response = getattr(alice_client, method)(url, data)
    assert response.status_code == 404
    bobs_list.refresh_from_db()
    assert bobs_list.name == "Bob private" and bobs_list.is_default
    assert order(bobs_list) == ["AAPL", "MSFT"]


@pytest.mark.parametrize("template", WATCHLIST_URLS[-2:])
def test_another_users_item_under_my_watchlist_is_404(alice, alice_client, bobs_list, template):
    mine = make_watchlist(alice, "Tech", [("stocks", "TSLA")], default=True)
    url = template.format(pk=mine.pk, item=bobs_list.items.first().pk)
    assert alice_client.post(url, {"direction": "down"}).status_code == 404
    assert order(bobs_list) == ["AAPL", "MSFT"]


def test_wrong_method_on_my_own_watchlist_is_405(alice, alice_client):
    mine = make_watchlist(alice, "Tech", [("stocks", "TSLA")], default=True)
    assert alice_client.get(f"/watchlists/{mine.pk}/rename/").status_code == 405
    assert alice_client.post(f"/watchlists/{mine.pk}/").status_code == 405
    assert alice_client.get("/watchlists/new/").status_code == 405


def test_missing_watchlist_is_404(alice_client):
    assert alice_client.get("/watchlists/999999/").status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/watchlists/"),
        ("post", "/watchlists/new/"),
        ("get", "/watchlists/{pk}/"),
        ("post", "/watchlists/{pk}/rename/"),
        ("get", "/watchlists/{pk}/delete/"),
        ("post", "/watchlists/{pk}/delete/"),
        ("post", "/watchlists/{pk}/activate/"),
        ("post", "/watchlists/{pk}/items/add/"),
        ("post", "/watchlists/{pk}/items/reorder/"),
        ("post", "/watchlists/{pk}/items/{item}/remove/"),
        ("post", "/watchlists/{pk}/items/{item}/move/"),
        ("get", "/instruments/search?q=AA"),
        ("get", "/events/"),
        ("get", "/events/export.csv"),
        ("get", "/events/{event}/"),
    ],
)
def test_anonymous_users_are_sent_to_login(bobs_list, method, url):
    event = make_event()
    url = url.format(pk=bobs_list.pk, item=bobs_list.items.first().pk, event=event.pk)
    response = getattr(Client(), method)(url, {"name": "x"} if method == "post" else None)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert Watchlist.objects.get(pk=bobs_list.pk).name == "Bob private"


def test_nav_links_every_page_and_admin_only_for_staff(alice_client, carol_client):
    body = alice_client.get("/watchlists/").content.decode()
    for href in ('href="/"', 'href="/watchlists/"', 'href="/events/"'):
        assert href in body
    assert 'href="/admin/"' not in body
    assert 'href="/admin/"' in carol_client.get("/events/").content.decode()
