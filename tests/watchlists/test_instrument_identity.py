"""One instrument per symbol: pages, admin, the watchlist operations and the database agree.

The bug this guards against: adding ``SOL-USD`` with class Forex created a second instrument
and the engine (keyed by symbol) mixed both price streams. A known symbol typed with another
class is refused, naming the class it has; nothing is created or added.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from pulse.models import AssetClassMismatch, Instrument, Watchlist, WatchlistItem
from pulse.watchlists import operations as watchlists
from pulse.watchlists.forms import AddSymbolForm
from tests.factories import instrument, make_watchlist, order

pytestmark = pytest.mark.django_db

MESSAGE = "SOL-USD is a Crypto instrument (crypto:SOL-USD), not Forex."


@pytest.fixture
def sol():
    return instrument("SOL-USD", "crypto")


@pytest.mark.parametrize("data", [
    {"symbol": "SOL-USD", "asset_class": "forex"},
    {"symbol": "forex:SOL-USD"},
    {"symbol": " forex:sol-usd "},
    {"symbol": "sol-usd", "asset_class": "forex"},
])
def test_page_form_refuses_a_known_symbol_with_another_class(alice, alice_client, sol, data):
    tech = make_watchlist(alice, "Tech", [("stocks", "AAPL")], default=True)
    response = alice_client.post(f"/watchlists/{tech.pk}/items/add/", data)
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert [e.code for e in response.context["add_form"].non_field_errors().as_data()] == [
        "asset_class_mismatch"]
    assert order(tech) == ["AAPL"]
    assert list(Instrument.objects.filter(symbol="SOL-USD")) == [sol]


def test_page_form_adds_the_known_symbol_with_its_own_class(alice, alice_client, sol):
    tech = make_watchlist(alice, "Tech", default=True)
    url = f"/watchlists/{tech.pk}/items/add/"
    assert alice_client.post(url, {"symbol": "crypto:sol-usd"}).status_code == 302
    assert order(tech) == ["SOL-USD"]
    assert Instrument.objects.count() == 1


def test_a_symbol_created_meanwhile_with_another_class_is_a_form_error(
    alice, alice_client, monkeypatch
):
    """The form saw no SOL-USD; someone else creates it as Crypto before the write."""
    tech = make_watchlist(alice, "Tech", default=True)
    original = AddSymbolForm._get_or_new

    def racing(self, ref):
        new = original(self, ref)
        instrument("SOL-USD", "crypto")
        return new

    monkeypatch.setattr(AddSymbolForm, "_get_or_new", racing)
    response = alice_client.post(f"/watchlists/{tech.pk}/items/add/",
                                 {"symbol": "SOL-USD", "asset_class": "forex"})
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert order(tech) == []
    assert Instrument.objects.get(symbol="SOL-USD").asset_class == "crypto"


def test_watchlist_operations_refuse_another_class_and_write_nothing(alice, sol):
    tech = make_watchlist(alice, "Tech", [("stocks", "AAPL")], default=True)
    with pytest.raises(AssetClassMismatch) as info:
        watchlists.add_instrument(tech, Instrument(asset_class="forex", symbol="SOL-USD"))
    assert info.value.code == "asset_class_mismatch" and info.value.message == MESSAGE
    with pytest.raises(AssetClassMismatch):
        watchlists.replace_instruments(tech, [
            Instrument(asset_class="stocks", symbol="NEWCO"),
            Instrument(asset_class="forex", symbol="SOL-USD"),
        ])
    assert order(tech) == ["AAPL"]
    assert not Instrument.objects.filter(symbol="NEWCO").exists()
    assert Instrument.objects.filter(symbol="SOL-USD").count() == 1


def test_the_database_holds_one_instrument_per_symbol_in_upper_case(sol):
    with pytest.raises(IntegrityError), transaction.atomic():
        Instrument.objects.create(symbol="SOL-USD", asset_class="forex")
    with pytest.raises(IntegrityError), transaction.atomic():
        Instrument.objects.filter(pk=sol.pk).update(symbol="sol-usd")  # bypasses save()
    # save() normalises, whoever creates the row.
    assert Instrument.objects.create(symbol=" eth-usd ", asset_class="crypto").symbol == "ETH-USD"


def test_instrument_clean_refuses_another_class_and_checks_the_symbol(sol):
    with pytest.raises(Exception) as info:
        Instrument(symbol="sol-usd", asset_class="forex").full_clean()
    assert info.value.message_dict["symbol"] == [MESSAGE]
    with pytest.raises(Exception) as info:
        Instrument(symbol="BAD SYMBOL", asset_class="stocks").full_clean()
    assert "invalid symbol" in info.value.message_dict["symbol"][0]


def test_only_watchlist_items_reference_instruments():
    """Migration 0008 repoints watchlist items; a new reference would need repointing too."""
    related = {field.related_model for field in Instrument._meta.get_fields(include_hidden=True)
               if field.auto_created and not field.concrete}
    assert related == {WatchlistItem, Watchlist}


# -- admin --------------------------------------------------------------------------------

ADD = "/admin/pulse/instrument/add/"


def test_admin_refuses_adding_a_known_symbol_with_another_class(root_client, sol):
    response = root_client.post(ADD, {"symbol": "sol-usd", "asset_class": "forex",
                                      "active": "on"})
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert list(Instrument.objects.all()) == [sol]
    # The same class is the unique symbol's error, not a second row.
    response = root_client.post(ADD, {"symbol": "SOL-USD", "asset_class": "crypto",
                                      "active": "on"})
    assert response.status_code == 200
    assert "An instrument with this symbol already exists." in response.content.decode()
    assert Instrument.objects.count() == 1


def test_admin_adds_a_new_symbol_normalised(root_client):
    response = root_client.post(ADD, {"symbol": " doge-usd ", "asset_class": "crypto",
                                      "active": "on"})
    assert response.status_code == 302
    assert Instrument.objects.get().symbol == "DOGE-USD"
    response = root_client.post(ADD, {"symbol": "BAD SYMBOL", "asset_class": "stocks",
                                      "active": "on"})
    assert response.status_code == 200 and "invalid symbol" in response.content.decode()


def test_admin_popup_from_the_inline_refuses_too(root_client, sol):
    """The watchlist inline's "+" opens the instrument add form as a popup."""
    response = root_client.post(f"{ADD}?_to_field=id&_popup=1",
                                {"symbol": "SOL-USD", "asset_class": "forex", "active": "on",
                                 "_popup": "1", "_to_field": "id"})
    assert response.status_code == 200 and MESSAGE in response.content.decode()
    assert Instrument.objects.count() == 1


def test_admin_keeps_symbol_and_class_read_only_once_created(root_client, sol):
    url = f"/admin/pulse/instrument/{sol.pk}/change/"
    response = root_client.post(url, {"symbol": "SOL-USD", "asset_class": "forex",
                                      "display_name": "Solana", "active": "on"})
    assert response.status_code == 302
    sol.refresh_from_db()
    assert (sol.asset_class, sol.display_name) == ("crypto", "Solana")


def test_admin_inline_adds_the_one_instrument_of_a_symbol(root_client, alice, sol):
    """The inline picks instruments, and there is one per symbol: no class to mismatch."""
    tech = make_watchlist(alice, "Tech", default=True)
    data = {"name": "Tech", "is_default": "on", "owner": alice.pk,
            "items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000",
            "items-0-instrument": sol.pk, "items-0-position": "0",
            "items-0-watchlist": tech.pk}
    response = root_client.post(f"/admin/pulse/watchlist/{tech.pk}/change/", data)
    assert response.status_code == 302
    assert order(tech) == ["SOL-USD"]
