"""The event detail page: the full explanation as a readable table."""

from __future__ import annotations

import pytest

from tests.factories import make_event

pytestmark = pytest.mark.django_db


def test_it_explains_a_move_with_every_recorded_number(alice_client):
    event = make_event("AAPL", value=0.0123, threshold=0.01, z=5.4, window=300.0,
                       regime="high", ref_price=100.0, ref_age=2.5, price=101.23,
                       also=["vol_spike"], message="AAPL rose +1.23% in 300s",
                       extra_key="kept")
    response = alice_client.get(f"/events/{event.pk}/")
    assert response.status_code == 200
    rows = {label: value for label, value, _ in response.context["rows"]}
    assert rows["Move"] == "+1.230%"
    assert rows["Threshold"] == "+1.000%"
    assert rows["z-score"] == "+5.40"
    assert rows["Window"] == "5 min (300 s)"
    assert rows["Regime"] == "high"
    assert rows["Reference price"] == "100"
    assert rows["Reference age"] == "2.5 s"
    assert rows["Price"] == "101.23"
    assert rows["Also fired"] == "vol_spike"
    body = response.content.decode()
    assert "AAPL rose +1.23% in 300s" in body
    assert "extra_key" in body and "kept" in body
    assert event.event_id in body


def test_a_vol_spike_reads_as_a_ratio_and_missing_numbers_as_dashes(alice_client):
    event = make_event("BTC-USD", "crypto", type="vol_spike", z=3.2, ref_price=None,
                       ref_age=None, value=0.9, threshold=0.75)
    rows = {label: value for label, value, _ in
            alice_client.get(f"/events/{event.pk}/").context["rows"]}
    assert rows["Realized volatility (annualized)"] == "90.000%"  # a level, not a move
    assert rows["Threshold"] == "75.000%"
    assert rows["Ratio to baseline"] == "3.20x"
    assert rows["Reference price"] == "\u2013" and rows["Reference age"] == "\u2013"


def test_it_links_the_symbol_page_when_the_symbol_fits_in_a_url(alice_client):
    event = make_event("BTC-USD", "crypto")
    assert 'href="/symbols/crypto/BTC-USD/"' in alice_client.get(
        f"/events/{event.pk}/").content.decode()
    odd = make_event("BTC/USD", "crypto")  # "/" cannot be a path segment: no link, no error
    response = alice_client.get(f"/events/{odd.pk}/")
    assert response.status_code == 200 and "/symbols/" not in response.content.decode()


def test_any_logged_in_user_may_read_any_event(bob_client):
    event = make_event("AAPL")
    assert bob_client.get(f"/events/{event.pk}/").status_code == 200


def test_events_with_odd_details_still_render(alice_client):
    event = make_event("AAPL")
    event.details = ["not", "a", "dict"]
    event.save()
    assert alice_client.get(f"/events/{event.pk}/").status_code == 200


def test_a_missing_event_is_404(alice_client):
    assert alice_client.get("/events/424242/").status_code == 404
