"""Admin scoping: staff who are not superusers see and edit only their own watchlists.

carol is staff (not superuser) in "Watchlist editors"; alice's list must stay out of her
reach in every admin view, including through the items inline.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from pulse.models import Event, Watchlist, WatchlistItem
from tests.factories import instrument, make_event, make_watchlist, order

pytestmark = pytest.mark.django_db

ADMIN = "/admin/pulse/watchlist/"


@pytest.fixture
def alices_list(alice):
    """alice's default list: carol must not see or change it."""
    return make_watchlist(alice, "Alice private", [("stocks", "AAPL"), ("stocks", "MSFT")],
                          default=True)


@pytest.fixture
def carols_list(carol):
    return make_watchlist(carol, "Carol tech", [("stocks", "TSLA")], default=True)


def change_data(watchlist: Watchlist, items: list[dict] | None = None, **fields) -> dict:
    """Return a POST body for the change form with the items inline."""
    items = items if items is not None else [
        {"id": item.pk, "instrument": item.instrument_id, "position": item.position}
        for item in watchlist.items.all()
    ]
    data = {
        "name": watchlist.name, "is_default": "on" if watchlist.is_default else "",
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(sum(1 for item in items if item.get("id"))),
        "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000",
    }
    for i, item in enumerate(items):
        for key, value in item.items():
            data[f"items-{i}-{key}"] = "" if value is None else str(value)
        data[f"items-{i}-watchlist"] = str(item.get("watchlist", watchlist.pk))
    data.update(fields)
    return {key: value for key, value in data.items() if value != ""}


def test_changelist_shows_only_my_lists_without_an_owner_column(
    carol_client, alices_list, carols_list
):
    response = carol_client.get(ADMIN)
    assert response.status_code == 200
    assert list(response.context["cl"].queryset) == [carols_list]
    body = response.content.decode()
    assert "Alice private" not in body and "column-owner" not in body


def test_superuser_sees_everyones_lists_and_owners(root_client, alices_list, carols_list):
    response = root_client.get(ADMIN)
    assert set(response.context["cl"].queryset) == {alices_list, carols_list}
    assert "column-owner" in response.content.decode()


def test_another_users_change_history_and_delete_urls_are_closed(carol_client, alices_list):
    base = f"{ADMIN}{alices_list.pk}/"
    for url in (f"{base}change/", f"{base}delete/", f"{base}history/"):
        response = carol_client.get(url)
        assert response.status_code == 302 and response["Location"] == "/admin/"
    response = carol_client.post(f"{base}change/", change_data(alices_list, name="Hijacked"))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    response = carol_client.post(f"{base}delete/", {"post": "yes"})
    assert response.status_code == 302
    alices_list.refresh_from_db()
    assert alices_list.name == "Alice private" and order(alices_list) == ["AAPL", "MSFT"]


def test_bulk_delete_action_cannot_reach_another_users_list(carol_client, alices_list,
                                                             carols_list):
    response = carol_client.post(ADMIN, {"action": "delete_selected", "post": "yes",
                                         "_selected_action": [alices_list.pk, carols_list.pk]})
    assert response.status_code == 302
    assert Watchlist.objects.filter(pk=alices_list.pk).exists()
    assert not Watchlist.objects.filter(pk=carols_list.pk).exists()


def test_add_form_has_no_owner_field_and_sets_the_owner_to_me(carol, carol_client, alice):
    response = carol_client.get(f"{ADMIN}add/")
    assert response.status_code == 200 and 'name="owner"' not in response.content.decode()
    aapl = instrument("AAPL")
    data = change_data(Watchlist(name="Mine", is_default=True),
                       [{"instrument": aapl.pk, "position": 0}], owner=str(alice.pk))
    data.pop("items-0-watchlist")
    response = carol_client.post(f"{ADMIN}add/", data)
    assert response.status_code == 302
    created = Watchlist.objects.get(name="Mine")
    assert created.owner == carol and order(created) == ["AAPL"]
    assert not Watchlist.objects.filter(owner=alice).exists()


def test_items_of_another_users_list_cannot_be_moved_into_mine_or_edited(
    carol_client, alices_list, carols_list
):
    alices_item = alices_list.items.first()
    url = f"{ADMIN}{carols_list.pk}/change/"
    # An existing item id from alice's list submitted in carol's inline.
    stolen = [{"id": alices_item.pk, "instrument": alices_item.instrument_id, "position": 0}]
    data = change_data(carols_list, stolen)
    data["items-INITIAL_FORMS"] = "1"
    # Django ignores an id outside the inline's queryset (carol's items): nothing moves.
    assert carol_client.post(url, data).status_code in (200, 302)
    assert order(alices_list) == ["AAPL", "MSFT"]
    # A new item claiming to belong to alice's list.
    sneaky = [{"instrument": instrument("NVDA").pk, "position": 0,
               "watchlist": alices_list.pk}]
    response = carol_client.post(url, change_data(carols_list, sneaky))
    assert response.status_code == 200 and response.context["errors"]
    assert order(alices_list) == ["AAPL", "MSFT"]
    assert WatchlistItem.objects.get(pk=alices_item.pk).watchlist_id == alices_list.pk
    assert order(carols_list) == ["TSLA"]


def test_inline_items_are_saved_in_position_order(carol_client, carols_list):
    tsla = carols_list.items.get()
    items = [{"id": tsla.pk, "instrument": tsla.instrument_id, "position": 5},
             {"instrument": instrument("AAPL").pk, "position": 1}]
    response = carol_client.post(f"{ADMIN}{carols_list.pk}/change/",
                                 change_data(carols_list, items))
    assert response.status_code == 302
    assert order(carols_list) == ["AAPL", "TSLA"]
    assert list(carols_list.items.values_list("position", flat=True).order_by("position")) == [
        0, 1]


def test_ticking_default_moves_it_and_deleting_it_promotes_another(carol, carol_client,
                                                                   carols_list):
    other = make_watchlist(carol, "Carol fx")
    response = carol_client.post(f"{ADMIN}{other.pk}/change/",
                                 change_data(other, [], is_default="on"))
    assert response.status_code == 302
    assert list(Watchlist.objects.filter(owner=carol, is_default=True)) == [other]
    response = carol_client.post(f"{ADMIN}{other.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    carols_list.refresh_from_db()
    assert carols_list.is_default


def test_unticking_the_only_default_keeps_one(carol, carol_client, carols_list):
    response = carol_client.post(f"{ADMIN}{carols_list.pk}/change/",
                                 change_data(carols_list, is_default=""))
    assert response.status_code == 302
    assert Watchlist.objects.filter(owner=carol, is_default=True).count() == 1


def test_duplicate_name_is_a_form_error_not_a_crash(carol, carol_client, carols_list):
    other = make_watchlist(carol, "Carol fx")
    response = carol_client.post(f"{ADMIN}{other.pk}/change/",
                                 change_data(other, [], name="carol TECH"))
    assert response.status_code == 200
    assert "already has a watchlist with this name" in response.content.decode()


def test_a_name_used_by_another_user_is_fine(carol_client, alices_list):
    response = carol_client.post(f"{ADMIN}add/",
                                 change_data(Watchlist(name="Alice private"), []))
    assert response.status_code == 302


def test_instrument_autocomplete_works_for_the_inline(carol_client):
    instrument("AAPL", display_name="Apple")
    instrument("MSFT")
    response = carol_client.get("/admin/autocomplete/", {
        "app_label": "pulse", "model_name": "watchlistitem", "field_name": "instrument",
        "term": "aap",
    })
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["AAPL (Stocks)"]


def test_events_are_read_only_with_filters_search_and_date_hierarchy(carol_client,
                                                                       root_client):
    event = make_event("AAPL")
    for client in (carol_client, root_client):
        response = client.get("/admin/pulse/event/", {"q": "AAPL"})
        assert response.status_code == 200
        body = response.content.decode()
        assert "AAPL" in body and 'id="changelist-search"' in body
        assert response.context["cl"].date_hierarchy == "ts"
        assert response.context["cl"].has_filters
        assert client.get("/admin/pulse/event/add/").status_code == 403
        assert client.post(f"/admin/pulse/event/{event.pk}/delete/",
                           {"post": "yes"}).status_code == 403
        change = client.post(f"/admin/pulse/event/{event.pk}/change/", {"symbol": "HACK"})
        assert change.status_code == 403
    assert Event.objects.get(pk=event.pk).symbol == "AAPL"


def test_staff_without_the_group_get_no_admin_pages(carol, carol_client):
    carol.groups.remove(Group.objects.get(name="Watchlist editors"))
    assert carol_client.get(ADMIN).status_code == 403


def test_non_staff_are_sent_to_the_admin_login(alice_client):
    response = alice_client.get(ADMIN)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_editors_group_has_exactly_the_permissions_needed():
    codenames = set(Group.objects.get(name="Watchlist editors")
                    .permissions.values_list("codename", flat=True))
    assert codenames == {
        "add_watchlist", "change_watchlist", "delete_watchlist", "view_watchlist",
        "add_watchlistitem", "change_watchlistitem", "delete_watchlistitem",
        "view_watchlistitem", "view_instrument", "view_event",
    }


def test_anonymous_users_are_sent_to_login(alices_list):
    response = Client().get(f"{ADMIN}{alices_list.pk}/change/")
    assert response.status_code == 302 and "/login/?next=/admin/" in response["Location"]
