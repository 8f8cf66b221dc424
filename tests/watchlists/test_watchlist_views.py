"""In-app watchlist management by ordinary users: create, rename, delete, items, default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pulse.models import Instrument, Watchlist
from tests.factories import instrument, make_watchlist, order

pytestmark = pytest.mark.django_db


def test_list_shows_only_my_watchlists_with_dashboard_links(alice, bob, alice_client):
    mine = make_watchlist(alice, "Tech", [("stocks", "AAPL")], default=True)
    make_watchlist(bob, "Bob secret list")
    response = alice_client.get("/watchlists/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Tech" in body and "Bob secret list" not in body
    assert f'href="/?watchlist={mine.pk}"' in body
    assert list(response.context["watchlists"]) == [mine]


def test_first_watchlist_created_becomes_active_and_opens(alice, alice_client):
    response = alice_client.post("/watchlists/new/", {"name": "  Tech  "})
    watchlist = Watchlist.objects.get(owner=alice)
    assert response.status_code == 302 and response["Location"] == f"/watchlists/{watchlist.pk}/"
    assert watchlist.name == "Tech" and watchlist.is_default
    alice_client.post("/watchlists/new/", {"name": "FX"})
    assert not Watchlist.objects.get(owner=alice, name="FX").is_default


def test_duplicate_name_is_a_form_error_for_the_same_user_only(alice, bob, alice_client,
                                                                bob_client):
    make_watchlist(alice, "Tech", default=True)
    response = alice_client.post("/watchlists/new/", {"name": "tech"})
    assert response.status_code == 400
    assert "already have a watchlist called" in response.content.decode()
    assert Watchlist.objects.filter(owner=alice).count() == 1
    # bob may use the same name: names are unique per user.
    assert bob_client.post("/watchlists/new/", {"name": "Tech"}).status_code == 302


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_blank_or_too_long_names_are_rejected(alice, alice_client, name):
    response = alice_client.post("/watchlists/new/", {"name": name})
    assert response.status_code == 400
    assert response.context["create_form"].errors["name"]
    assert not Watchlist.objects.filter(owner=alice).exists()


def test_rename_changes_the_name_and_rejects_another_lists_name(alice, alice_client):
    tech = make_watchlist(alice, "Tech", default=True)
    make_watchlist(alice, "FX")
    response = alice_client.post(f"/watchlists/{tech.pk}/rename/", {"name": "Big tech"})
    assert response.status_code == 302
    tech.refresh_from_db()
    assert tech.name == "Big tech"
    response = alice_client.post(f"/watchlists/{tech.pk}/rename/", {"name": "fx"})
    assert response.status_code == 400
    assert "already have a watchlist called" in response.content.decode()
    # Renaming to its own name (other case) is fine.
    assert alice_client.post(f"/watchlists/{tech.pk}/rename/",
                             {"name": "BIG TECH"}).status_code == 302


def test_delete_asks_for_confirmation_then_promotes_another_default(alice, alice_client):
    tech = make_watchlist(alice, "Tech", default=True)
    fx = make_watchlist(alice, "FX")
    confirm = alice_client.get(f"/watchlists/{tech.pk}/delete/")
    assert confirm.status_code == 200
    assert "Delete “Tech”?" in confirm.content.decode()
    assert Watchlist.objects.filter(pk=tech.pk).exists()  # GET deletes nothing
    response = alice_client.post(f"/watchlists/{tech.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/watchlists/"
    assert not Watchlist.objects.filter(pk=tech.pk).exists()
    fx.refresh_from_db()
    assert fx.is_default


def test_deleting_the_last_watchlist_leaves_none(alice, alice_client):
    tech = make_watchlist(alice, "Tech", default=True)
    alice_client.post(f"/watchlists/{tech.pk}/delete/")
    assert not Watchlist.objects.filter(owner=alice).exists()


def test_set_default_keeps_exactly_one_default(alice, bob, alice_client):
    tech = make_watchlist(alice, "Tech", default=True)
    fx = make_watchlist(alice, "FX")
    bobs = make_watchlist(bob, "Bob", default=True)
    response = alice_client.post(f"/watchlists/{fx.pk}/activate/", {"next": "list"})
    assert response.status_code == 302 and response["Location"] == "/watchlists/"
    assert list(Watchlist.objects.filter(owner=alice, is_default=True)) == [fx]
    tech.refresh_from_db()
    bobs.refresh_from_db()
    assert not tech.is_default and bobs.is_default  # bob's default untouched
    assert alice_client.post(f"/watchlists/{fx.pk}/activate/").status_code == 302
    assert Watchlist.objects.filter(owner=alice, is_default=True).count() == 1


def test_add_known_symbol_appends_it(alice, alice_client):
    tech = make_watchlist(alice, "Tech", [("stocks", "AAPL")], default=True)
    instrument("MSFT", display_name="Microsoft")
    response = alice_client.post(f"/watchlists/{tech.pk}/items/add/", {"symbol": "msft"})
    assert response.status_code == 302
    assert order(tech) == ["AAPL", "MSFT"]


def test_add_unknown_symbol_needs_an_asset_class(alice, alice_client):
    tech = make_watchlist(alice, "Tech", default=True)
    response = alice_client.post(f"/watchlists/{tech.pk}/items/add/", {"symbol": "NVDA"})
    assert response.status_code == 400
    assert "Unknown symbol NVDA: choose its asset class" in response.content.decode()
    assert not Instrument.objects.filter(symbol="NVDA").exists()
    response = alice_client.post(f"/watchlists/{tech.pk}/items/add/",
                                 {"symbol": "nvda", "asset_class": "stocks"})
    assert response.status_code == 302
    created = Instrument.objects.get(symbol="NVDA")
    assert created.asset_class == "stocks" and created.active
    assert order(tech) == ["NVDA"]


def test_add_accepts_the_command_line_form(alice, alice_client):
    tech = make_watchlist(alice, "Tech", default=True)
    response = alice_client.post(f"/watchlists/{tech.pk}/items/add/", {"symbol": "crypto:sol-usd"})
    assert response.status_code == 302
    assert Instrument.objects.filter(asset_class="crypto", symbol="SOL-USD").exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"symbol": "BAD SYMBOL", "asset_class": "stocks"}, "invalid symbol"),
        ({"symbol": "X" * 33, "asset_class": "crypto"}, "invalid symbol"),
        ({"symbol": "AAPL", "asset_class": "bonds"}, "Select a valid choice"),
        ({"symbol": "nope:AAPL"}, "unknown asset class"),
        ({"symbol": "=HYPERLINK()", "asset_class": "stocks"}, "invalid symbol"),
        ({"symbol": ""}, "This field is required"),
    ],
)
def test_add_rejects_symbols_that_symbolref_rejects(alice, alice_client, data, error):
    tech = make_watchlist(alice, "Tech", default=True)
    response = alice_client.post(f"/watchlists/{tech.pk}/items/add/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert order(tech) == []
    assert Instrument.objects.count() == 0


def test_add_refuses_duplicates_other_classes_and_inactive_symbols(alice, alice_client):
    tech = make_watchlist(alice, "Tech", [("stocks", "AAPL")], default=True)
    url = f"/watchlists/{tech.pk}/items/add/"
    body = alice_client.post(url, {"symbol": "AAPL"}).content.decode()
    assert "already in this watchlist" in body
    # A symbol is one instrument: its class cannot be chosen a second time.
    instrument("ETH", "crypto")
    body = alice_client.post(url, {"symbol": "ETH", "asset_class": "stocks"}).content.decode()
    assert "ETH is a Crypto instrument (crypto:ETH), not Stocks." in body
    instrument("OLD", active=False)
    body = alice_client.post(url, {"symbol": "OLD", "asset_class": "stocks"}).content.decode()
    assert "deactivated by an administrator" in body
    assert order(tech) == ["AAPL"]
    assert Instrument.objects.filter(symbol="ETH").count() == 1
    # Without a class, or with its own class, the known symbol is added.
    assert alice_client.post(url, {"symbol": "ETH"}).status_code == 302
    assert order(tech) == ["AAPL", "ETH"]


def test_remove_item_closes_the_gap(alice, alice_client):
    tech = make_watchlist(alice, "Tech", [("stocks", s) for s in ("AAPL", "MSFT", "TSLA")],
                          default=True)
    msft = tech.items.get(instrument__symbol="MSFT")
    response = alice_client.post(f"/watchlists/{tech.pk}/items/{msft.pk}/remove/")
    assert response.status_code == 302
    assert order(tech) == ["AAPL", "TSLA"]
    assert list(tech.items.order_by("position").values_list("position", flat=True)) == [0, 1]
    assert Instrument.objects.filter(symbol="MSFT").exists()  # the instrument stays


def test_up_and_down_buttons_reorder_without_javascript(alice, alice_client):
    tech = make_watchlist(alice, "Tech", [("stocks", s) for s in ("AAPL", "MSFT", "TSLA")],
                          default=True)
    tsla = tech.items.get(instrument__symbol="TSLA")
    url = f"/watchlists/{tech.pk}/items/{tsla.pk}/move/"
    response = alice_client.post(url, {"direction": "up"})
    assert response.status_code == 302 and response["Location"].endswith(f"#item-{tsla.pk}")
    assert order(tech) == ["AAPL", "TSLA", "MSFT"]
    alice_client.post(url, {"direction": "up"})
    alice_client.post(url, {"direction": "up"})  # already first: no change
    assert order(tech) == ["TSLA", "AAPL", "MSFT"]
    alice_client.post(url, {"direction": "down"})
    assert order(tech) == ["AAPL", "TSLA", "MSFT"]
    assert alice_client.post(url, {"direction": "sideways"}).status_code == 400


def test_reorder_endpoint_applies_a_full_permutation_only(alice, bob, alice_client):
    tech = make_watchlist(alice, "Tech", [("stocks", s) for s in ("AAPL", "MSFT", "TSLA")],
                          default=True)
    other = make_watchlist(bob, "Bob", [("stocks", "IBM")])
    ids = {item.instrument.symbol: item.pk for item in tech.items.select_related("instrument")}
    url = f"/watchlists/{tech.pk}/items/reorder/"
    new = [ids["TSLA"], ids["AAPL"], ids["MSFT"]]
    response = alice_client.post(url, {"order": ",".join(map(str, new))})
    assert response.status_code == 200 and response.json() == {"order": new}
    assert order(tech) == ["TSLA", "AAPL", "MSFT"]
    bobs_item = other.items.get().pk
    for bad in ["", "x,y", f"{ids['AAPL']},{ids['MSFT']}",
                f"{ids['AAPL']},{ids['MSFT']},{bobs_item}",
                f"{ids['AAPL']},{ids['AAPL']},{ids['MSFT']}"]:
        assert alice_client.post(url, {"order": bad}).status_code == 400
    assert order(tech) == ["TSLA", "AAPL", "MSFT"]
    assert order(other) == ["IBM"]


def test_detail_page_lists_items_in_order_with_forms(alice, alice_client):
    tech = make_watchlist(alice, "Tech", [("stocks", "MSFT"), ("crypto", "BTC-USD")],
                          default=True)
    response = alice_client.get(f"/watchlists/{tech.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("MSFT") < body.index("BTC-USD")
    assert f'href="/?watchlist={tech.pk}"' in body
    assert body.count('name="csrfmiddlewaretoken"') >= 5
    assert reverse("instrument_search") in body


def test_pages_require_csrf_on_posts(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/watchlists/new/", {"name": "Tech"}).status_code == 403
    assert not Watchlist.objects.exists()
