"""GET /instruments/search?q=: the autocomplete source (active instruments, JSON)."""

from __future__ import annotations

import pytest

from tests.factories import instrument

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def instruments():
    instrument("AAPL", display_name="Apple Inc.")
    instrument("MSFT", display_name="Microsoft")
    instrument("PAAS", display_name="Pan American Silver")
    instrument("BTC-USD", "crypto", display_name="Bitcoin")
    instrument("AAL", active=False)  # deactivated: never suggested


def test_it_returns_symbols_starting_with_the_query_first(alice_client):
    response = alice_client.get("/instruments/search", {"q": "aa"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    rows = response.json()
    assert [row["symbol"] for row in rows] == ["AAPL", "PAAS"]
    assert rows[0] == {"symbol": "AAPL", "asset_class": "stocks", "display_name": "Apple Inc."}


def test_it_matches_display_names_and_the_command_line_form(alice_client):
    assert [r["symbol"] for r in alice_client.get("/instruments/search?q=bitcoin").json()] == [
        "BTC-USD"
    ]
    rows = alice_client.get("/instruments/search", {"q": "crypto:btc"}).json()
    assert [(r["asset_class"], r["symbol"]) for r in rows] == [("crypto", "BTC-USD")]


def test_empty_query_lists_active_instruments_and_no_match_is_empty(alice_client):
    symbols = [r["symbol"] for r in alice_client.get("/instruments/search").json()]
    assert symbols == ["AAPL", "BTC-USD", "MSFT", "PAAS"]
    assert alice_client.get("/instruments/search?q=zzz").json() == []


def test_it_caps_results_and_rejects_overlong_queries(alice_client):
    for i in range(30):
        instrument(f"X{i:02d}")
    assert len(alice_client.get("/instruments/search?q=x").json()) == 20
    response = alice_client.get("/instruments/search", {"q": "A" * 49})
    assert response.status_code == 400 and "error" in response.json()


def test_it_is_read_only(alice_client):
    assert alice_client.post("/instruments/search", {"q": "AA"}).status_code == 405
