"""Episode and gap fields of engine events survive storage, reach the dashboard's stored
cards and show on the event detail page."""

from __future__ import annotations

import math

import pytest
from django.urls import reverse

from pulse.engine import Engine
from pulse.ingest.event_store import event_from_dict
from pulse.models import Instrument, Watchlist, WatchlistItem
from tests.engine.fake_correlation import FakeTracker
from tests.engine.streams import Driver

pytestmark = pytest.mark.django_db

SIGMA = 1e-4


def gap_events() -> list[dict]:
    """A warning move across a 10-minute gap, then its escalation in the same episode."""
    drv = Driver(Engine(tracker=FakeTracker()), symbol="BTC-USD", seed=3)
    drv.walk(3600, SIGMA)
    first = drv.tick(drv.price * math.exp(6.0 * SIGMA * math.sqrt(600.0)), dt=600.0)
    follow = drv.tick(drv.price * math.exp(2.5 * SIGMA * math.sqrt(600.0)), dt=1.0)
    return [e.to_dict() for e in [*first, *follow]]


def test_episode_and_gap_fields_survive_storage_and_render(client, alice):
    first, follow = gap_events()
    assert first["gap"] is True and follow["episode"] == first["id"]
    assert (first["episode_seq"], follow["episode_seq"]) == (0, 1)
    assert (first["severity"], follow["severity"]) == ("warning", "critical")
    stored = [event_from_dict(d) for d in (first, follow)]
    for e in stored:
        e.save()
    w = Watchlist.objects.create(owner=alice, name="Crypto", is_default=True)
    inst, _ = Instrument.objects.get_or_create(asset_class="crypto", symbol="BTC-USD")
    WatchlistItem.objects.create(watchlist=w, instrument=inst, position=0)
    client.force_login(alice)
    cards = client.get("/").context["recent_events"]
    by_id = {c["id"]: c for c in cards}
    assert by_id[follow["id"]]["episode"] == first["id"]
    assert by_id[follow["id"]]["episode_seq"] == 1
    assert by_id[first["id"]]["gap"] is True
    assert by_id[first["id"]]["span"] == pytest.approx(first["span"])
    page = client.get(reverse("event_detail", args=[stored[0].pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "over 10m (gap)" in text and "episode_seq" in text
