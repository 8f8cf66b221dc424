"""The watchlist operations keep their invariants: one default per user, positions 0..n-1."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from pulse.models import Watchlist
from pulse.watchlists import operations as watchlists
from tests.factories import instrument, make_watchlist, order

pytestmark = pytest.mark.django_db


def defaults(owner) -> list[str]:
    return list(Watchlist.objects.filter(owner=owner, is_default=True)
                .values_list("name", flat=True))


def test_the_database_refuses_two_defaults_for_one_user(alice, bob):
    make_watchlist(alice, "A", default=True)
    make_watchlist(bob, "B", default=True)  # another user's default is fine
    with pytest.raises(IntegrityError), transaction.atomic():
        make_watchlist(alice, "C", default=True)


def test_ensure_one_default_promotes_the_first_by_name(alice):
    make_watchlist(alice, "Zeta")
    make_watchlist(alice, "Alpha")
    watchlists.ensure_one_default(alice)
    assert defaults(alice) == ["Alpha"]
    watchlists.ensure_one_default(alice)  # idempotent
    assert defaults(alice) == ["Alpha"]


def test_set_default_then_delete_walks_through_every_list(alice):
    lists = [watchlists.create(alice, name) for name in ("One", "Two", "Three")]
    assert defaults(alice) == ["One"]
    watchlists.set_default(lists[2])
    assert defaults(alice) == ["Three"]
    watchlists.delete(lists[2])
    assert defaults(alice) == ["One"]
    watchlists.delete(lists[0])
    assert defaults(alice) == ["Two"]
    watchlists.delete(lists[1])
    assert defaults(alice) == []


def test_add_creates_unsaved_instruments_and_appends(alice):
    from pulse.models import Instrument

    tech = make_watchlist(alice, "Tech", [("stocks", "AAPL")], default=True)
    watchlists.add_instrument(tech, Instrument(asset_class="stocks", symbol="NVDA"))
    watchlists.add_instrument(tech, instrument("MSFT"))
    assert order(tech) == ["AAPL", "NVDA", "MSFT"]
    assert list(tech.items.values_list("position", flat=True).order_by("position")) == [0, 1, 2]


def test_move_at_either_end_reports_no_change(alice):
    tech = make_watchlist(alice, "Tech", [("stocks", "AAPL"), ("stocks", "MSFT")])
    first, last = tech.items.order_by("position")
    assert not watchlists.move_item(first, -1)
    assert not watchlists.move_item(last, +1)
    assert watchlists.move_item(last, -1)
    assert order(tech) == ["MSFT", "AAPL"]


def test_event_history_indexes_exist():
    with connection.cursor() as cursor:
        names = {
            name for constraints in [connection.introspection.get_constraints(
                cursor, table) for table in ("pulse_event", "pulse_instrument")]
            for name in constraints
        }
    assert {"event_history_recent", "event_history_by_symbol", "event_history_by_type",
            "event_history_by_class", "event_history_by_severity",
            "instrument_search_symbol"} <= names
