"""One instrument per symbol over the REST API: ``asset_class_mismatch``, nothing written."""

from __future__ import annotations

import pytest

from pulse.api.openapi import spec
from pulse.models import Instrument, Watchlist
from pulse.watchlists import operations as watchlists
from tests.api.test_rest import api, send
from tests.factories import instrument, make_watchlist, order

pytestmark = pytest.mark.django_db

URL = "/api/v1/watchlists"
MESSAGE = "SOL-USD is a Crypto instrument (crypto:SOL-USD), not Forex."


def mismatch(response) -> dict:
    """Assert ``response`` is the asset-class refusal; return its detail."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "asset_class_mismatch"
    return body["detail"]


def test_create_with_a_known_symbol_in_another_class_is_refused(alice, alice_token):
    instrument("SOL-USD", "crypto")
    detail = mismatch(send(api(alice_token), "post", URL,
                           {"name": "FX", "symbols": ["forex:EURUSD", "forex:sol-usd"]}))
    assert detail == {"symbol": "SOL-USD", "asset_class": "crypto", "requested": "forex",
                      "message": MESSAGE}
    assert not Watchlist.objects.filter(owner=alice).exists()
    assert list(Instrument.objects.values_list("symbol", flat=True)) == ["SOL-USD"]


def test_replace_with_a_known_symbol_in_another_class_changes_nothing(alice, alice_token):
    tech = make_watchlist(alice, "Tech", [("crypto", "SOL-USD")], default=True)
    detail = mismatch(send(api(alice_token), "patch", f"{URL}/{tech.pk}",
                           {"name": "Renamed", "symbols": ["forex:SOL-USD"]}))
    assert detail["message"] == MESSAGE
    tech.refresh_from_db()
    assert tech.name == "Tech" and order(tech) == ["SOL-USD"]


def test_one_new_symbol_with_two_classes_is_refused(alice, alice_token):
    detail = mismatch(send(api(alice_token), "post", URL,
                           {"name": "Mixed", "symbols": ["crypto:NEW-USD", "forex:NEW-USD"]}))
    assert detail["symbol"] == "NEW-USD"
    assert (detail["asset_class"], detail["requested"]) == ("crypto", "forex")
    assert "given twice" in detail["message"]
    assert not Instrument.objects.exists() and not Watchlist.objects.exists()


def test_the_same_symbol_twice_in_its_class_is_listed_twice(alice, alice_token):
    instrument("SOL-USD", "crypto")
    response = send(api(alice_token), "post", URL,
                    {"name": "Twice", "symbols": ["SOL-USD", "crypto:SOL-USD"]})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_symbols",
                               "detail": {"crypto:SOL-USD": "listed twice"}}


def test_a_known_symbol_with_its_own_class_or_bare_is_accepted(alice, alice_token):
    instrument("SOL-USD", "crypto")
    response = send(api(alice_token), "post", URL,
                    {"name": "Crypto", "symbols": ["crypto:sol-usd", "crypto:BTC-USD"]})
    assert response.status_code == 201, response.content
    assert [s["symbol"] for s in response.json()["symbols"]] == ["SOL-USD", "BTC-USD"]
    assert Instrument.objects.count() == 2


def test_a_symbol_created_meanwhile_in_another_class_is_refused(alice, alice_token,
                                                                monkeypatch):
    """Validation saw no SOL-USD; it is created as Crypto before the list is written."""
    original = watchlists.replace_instruments

    def racing(watchlist, instruments):
        instrument("SOL-USD", "crypto")
        return original(watchlist, instruments)

    monkeypatch.setattr(watchlists, "replace_instruments", racing)
    detail = mismatch(send(api(alice_token), "post", URL,
                           {"name": "FX", "symbols": ["forex:SOL-USD"]}))
    assert detail["message"] == MESSAGE
    assert not Watchlist.objects.filter(owner=alice).exists()


def test_openapi_documents_the_error_code():
    post = spec()["paths"]["/api/v1/watchlists"]["post"]
    assert "asset_class_mismatch" in post["responses"]["400"]["description"]
