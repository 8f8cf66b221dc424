"""The REST API: token auth with JSON errors, owner-scoped watchlists, events, live state."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from django.test import AsyncClient, Client

from pulse.api import tokens
from pulse.api.openapi import spec
from pulse.models import Instrument, Watchlist
from tests.api.conftest import running_ingest
from tests.factories import T0, instrument, make_event, make_watchlist

pytestmark = pytest.mark.django_db


def api(token: str) -> Client:
    """Return a test client that sends ``token`` as a bearer token (no session)."""
    return Client(headers={"Authorization": f"Bearer {token}"})


def send(client: Client, method: str, url: str, body: object = None):
    data = None if body is None else json.dumps(body)
    return getattr(client, method)(url, data=data, content_type="application/json")


# Authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/watchlists", "/api/v1/events", "/api/v1/health",
                                 "/api/v1/snapshots", "/api/v1/symbols/AAPL",
                                 "/api/v1/correlation", "/api/openapi.json"])
def test_it_answers_401_json_without_a_token_never_a_login_redirect(url):
    response = Client().get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_bad_revoked_and_expired_tokens_with_401(alice):
    token, raw = tokens.create(alice, "bot")
    assert api(raw).get("/api/v1/watchlists").status_code == 200
    assert api(raw + "x").get("/api/v1/watchlists").status_code == 401
    tokens.revoke(token)
    assert api(raw).get("/api/v1/watchlists").json()["error"] == "unauthenticated"
    _, old = tokens.create(alice, "old", T0)
    assert api(old).get("/api/v1/watchlists").status_code == 401


def test_a_session_may_read_but_writes_need_a_token(alice):
    client = Client()
    client.force_login(alice)
    assert client.get("/api/v1/watchlists").status_code == 200
    response = send(client, "post", "/api/v1/watchlists", {"name": "Tech"})
    assert response.status_code == 401
    assert "token" in response.json()["detail"]
    assert not Watchlist.objects.exists()


def test_it_answers_405_json_for_other_methods(alice_token):
    response = send(api(alice_token), "delete", "/api/v1/events")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


# Watchlists ------------------------------------------------------------------------------


def test_it_creates_reads_updates_and_deletes_the_callers_watchlists(alice, alice_token):
    instrument("AAPL")
    instrument("MSFT")
    client = api(alice_token)
    created = send(client, "post", "/api/v1/watchlists",
                   {"name": "Tech", "symbols": ["AAPL", "crypto:SOL-USD"]})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Tech" and body["is_default"] is True
    assert [s["symbol"] for s in body["symbols"]] == ["AAPL", "SOL-USD"]
    assert Instrument.objects.filter(symbol="SOL-USD", asset_class="crypto").exists()
    wid = body["id"]
    updated = send(client, "patch", f"/api/v1/watchlists/{wid}",
                   {"name": "Big tech", "symbols": ["MSFT", "AAPL"]})
    assert updated.status_code == 200
    assert updated.json()["name"] == "Big tech"
    assert [s["symbol"] for s in updated.json()["symbols"]] == ["MSFT", "AAPL"]
    listed = client.get("/api/v1/watchlists").json()["results"]
    assert [w["id"] for w in listed] == [wid]
    assert client.get(f"/api/v1/watchlists/{wid}").json()["name"] == "Big tech"
    assert send(client, "delete", f"/api/v1/watchlists/{wid}").status_code == 204
    assert client.get(f"/api/v1/watchlists/{wid}").status_code == 404


def test_a_second_watchlist_can_become_the_default(alice, alice_token):
    first = make_watchlist(alice, "One", default=True)
    second = make_watchlist(alice, "Two")
    response = send(api(alice_token), "patch", f"/api/v1/watchlists/{second.pk}",
                    {"is_default": True})
    assert response.json()["is_default"] is True
    first.refresh_from_db()
    assert first.is_default is False


def test_alices_token_cannot_read_or_modify_bobs_watchlists(alice, bob, alice_token):
    bobs = make_watchlist(bob, "Bob's secret", [("stocks", "AAPL")], default=True)
    client = api(alice_token)
    assert client.get("/api/v1/watchlists").json()["results"] == []
    for method, body in [("get", None), ("patch", {"name": "mine now"}),
                         ("patch", {"symbols": []}), ("delete", None)]:
        response = send(client, method, f"/api/v1/watchlists/{bobs.pk}", body)
        assert response.status_code == 404, method
        assert response.json()["error"] == "watchlist_not_found"
    bobs.refresh_from_db()
    assert bobs.name == "Bob's secret" and bobs.items.count() == 1
    assert client.get(f"/api/v1/snapshots?watchlist={bobs.pk}").status_code == 404


@pytest.mark.parametrize(("body", "error"), [
    ({"name": ""}, "invalid_name"),
    ({"name": "x" * 81}, "invalid_name"),
    ({"name": "Tech"}, "invalid_name"),  # alice already has one
    ({"name": "New", "symbols": "AAPL"}, "invalid_symbols"),
    ({"name": "New", "symbols": ["NOPE"]}, "invalid_symbols"),
    ({"name": "New", "symbols": ["bonds:X"]}, "invalid_symbols"),
    ({"name": "New", "symbols": ["AAPL", "aapl"]}, "invalid_symbols"),
    ({"name": "New", "symbols": ["AAPL"] * 201}, "quota_exceeded"),  # PULSE_MAX_WATCHLIST_SYMBOLS
    ({"name": "New", "is_default": "yes"}, "invalid_is_default"),
    ({"name": "New", "owner": 2}, "unknown_fields"),
    ([1, 2], "invalid_json"),
])
def test_it_rejects_bad_watchlist_bodies_with_400(alice, alice_token, body, error):
    instrument("AAPL")
    make_watchlist(alice, "Tech", default=True)
    response = send(api(alice_token), "post", "/api/v1/watchlists", body)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert Watchlist.objects.filter(owner=alice).count() == 1


def test_it_rejects_a_body_that_is_not_json(alice_token):
    response = api(alice_token).post("/api/v1/watchlists", data="{nope",
                                      content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"


# Events ---------------------------------------------------------------------------------


def test_events_use_the_history_filters(alice_token):
    make_event("AAPL", severity="critical")
    make_event("BTC-USD", "crypto", ts=T0 + dt.timedelta(minutes=1))
    client = api(alice_token)
    crypto = client.get("/api/v1/events?asset_class=crypto").json()["results"]
    assert [e["symbol"] for e in crypto] == ["BTC-USD"]
    critical = client.get("/api/v1/events?severity=critical").json()["results"]
    assert [e["symbol"] for e in critical] == ["AAPL"]
    assert critical[0]["details"]["message"].startswith("AAPL")
    bad = client.get("/api/v1/events?date_from=yesterday&severity=loud")
    assert bad.status_code == 400
    assert set(bad.json()["detail"]) == {"date_from", "severity"}


def test_only_my_watchlist_filter_reads_the_callers_own_list(alice, bob, alice_token):
    make_watchlist(alice, "Mine", [("stocks", "AAPL")], default=True)
    make_watchlist(bob, "Bob's", [("crypto", "BTC-USD")], default=True)
    make_event("AAPL")
    make_event("BTC-USD", "crypto")
    mine = api(alice_token).get("/api/v1/events?mine=on").json()["results"]
    assert [e["symbol"] for e in mine] == ["AAPL"]


def test_event_pages_stay_stable_while_new_events_arrive(alice_token):
    for i in range(7):
        make_event("AAPL", ts=T0 + dt.timedelta(seconds=i))
    make_event("MSFT", ts=T0 + dt.timedelta(seconds=3))  # same ts as another: ties by id
    client = api(alice_token)
    first = client.get("/api/v1/events?limit=3").json()
    seen = [e["id"] for e in first["results"]]
    cursor = first["next_cursor"]
    while cursor:
        # Newer events keep arriving between pages: they must not shift what comes next.
        make_event("NVDA", ts=T0 + dt.timedelta(hours=1, seconds=len(seen)))
        page = client.get(f"/api/v1/events?limit=3&cursor={cursor}").json()
        seen += [e["id"] for e in page["results"]]
        cursor = page["next_cursor"]
    from pulse.models import Event
    expected = list(Event.objects.filter(ts__lt=T0 + dt.timedelta(hours=1))
                    .order_by("-ts", "-id").values_list("id", flat=True))
    assert seen == expected and len(seen) == 8


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "cursor=%%%",
                                   "cursor=bm9wZQ"])
def test_events_reject_bad_limits_and_cursors(alice_token, query):
    response = api(alice_token).get(f"/api/v1/events?{query}")
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_limit", "invalid_cursor"}


# Health, OpenAPI, live state ------------------------------------------------------------


def test_health_reports_no_ingest_when_none_runs(alice_token):
    response = api(alice_token).get("/api/v1/health")
    assert response.status_code == 200 and response.json()["status"] == "no_ingest"


def test_the_openapi_description_lists_every_endpoint(alice_token):
    served = api(alice_token).get("/api/openapi.json").json()
    assert served == json.loads(json.dumps(spec()))
    assert served["openapi"].startswith("3.1")
    assert set(served["paths"]) == {
        "/api/v1/snapshots", "/api/v1/symbols/{symbol}", "/api/v1/correlation",
        "/api/v1/events", "/api/v1/watchlists", "/api/v1/watchlists/{id}", "/api/v1/health"}


@pytest.mark.django_db(transaction=True)
async def test_snapshots_come_from_ingest_all_or_by_watchlist(alice):
    from asgiref.sync import sync_to_async
    from django.utils import timezone

    from pulse.models import IngestStatus
    raw = (await sync_to_async(tokens.create)(alice, "bot"))[1]
    tech = await sync_to_async(make_watchlist)(alice, "Tech", [("stocks", "MSFT"),
                                                              ("stocks", "AAPL")])
    await sync_to_async(IngestStatus.objects.create)(instance="ingest-t",
                                                     updated_at=timezone.now())
    client, auth = AsyncClient(), {"Authorization": f"Bearer {raw}"}
    async with running_ingest():
        everything = (await client.get("/api/v1/snapshots", headers=auth)).json()
        mine = (await client.get(f"/api/v1/snapshots?watchlist={tech.pk}",
                                 headers=auth)).json()
        one = await client.get("/api/v1/symbols/aapl?seconds=60&step=10", headers=auth)
        unknown = await client.get("/api/v1/symbols/NOPE", headers=auth)
    assert [r["symbol"] for r in everything["rows"]] == ["AAPL", "BTC-USD", "EURUSD", "MSFT"]
    assert [r["symbol"] for r in mine["rows"]] == ["MSFT", "AAPL"]
    assert one.status_code == 200
    body = one.json()
    assert body["snapshot"]["symbol"] == "AAPL" and body["history"]["step"] == 10
    assert body["history"]["points"] and all(len(p) == 2 for p in body["history"]["points"])
    assert unknown.status_code == 404 and unknown.json()["error"] == "symbol_not_found"


@pytest.mark.django_db(transaction=True)
async def test_correlation_comes_from_ingest_with_a_standard_error_per_pair(alice):
    from asgiref.sync import sync_to_async

    raw = (await sync_to_async(tokens.create)(alice, "bot"))[1]
    tech = await sync_to_async(make_watchlist)(alice, "Tech", [("stocks", "MSFT"),
                                                              ("stocks", "AAPL")])
    client, auth = AsyncClient(), {"Authorization": f"Bearer {raw}"}
    async with running_ingest():
        mine = await client.get(f"/api/v1/correlation?watchlist={tech.pk}&base=MSFT",
                                headers=auth)
        everything = (await client.get("/api/v1/correlation", headers=auth)).json()
        bucketed = (await client.get("/api/v1/correlation?bucket=20", headers=auth)).json()
        bad = await client.get("/api/v1/correlation?bucket=7", headers=auth)
    assert mine.status_code == 200
    body = mine.json()
    assert body["symbols"] == ["AAPL", "MSFT"] and body["base"] == "MSFT"
    assert body["method"] == "kernel" and body["status"][0][1] == "ok"
    assert -1.0 <= body["matrix"][0][1] <= 1.0
    assert 0.0 < body["stderr"][0][1] < 0.2 and body["stderr"][0][0] == 0.0
    assert body["top"][0]["symbol"] == "AAPL" and body["top"][0]["stderr"] > 0
    assert everything["symbols"] == ["AAPL", "BTC-USD", "EURUSD", "MSFT"]
    assert bucketed["method"] == "bucketed" and bucketed["bucket"] == 20
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_bucket"


@pytest.mark.django_db(transaction=True)
async def test_live_endpoints_answer_503_when_ingest_is_not_running(alice, monkeypatch):
    from asgiref.sync import sync_to_async

    from pulse.api import ingest_requests
    monkeypatch.setattr(ingest_requests, "TIMEOUT", 0.2)
    raw = (await sync_to_async(tokens.create)(alice, "bot"))[1]
    client, auth = AsyncClient(), {"Authorization": f"Bearer {raw}"}
    response = await client.get("/api/v1/snapshots", headers=auth)
    assert response.status_code == 503 and response.json()["error"] == "ingest_unavailable"
    bad = await client.get("/api/v1/symbols/AAPL?step=0", headers=auth)
    assert bad.status_code == 400
    response = await client.get("/api/v1/correlation", headers=auth)
    assert response.status_code == 503 and response.json()["error"] == "ingest_unavailable"


@pytest.mark.django_db(transaction=True)
async def test_live_requests_stop_waiting_once_every_live_ingest_answered(alice, monkeypatch):
    from asgiref.sync import sync_to_async
    from django.utils import timezone

    from pulse.api import ingest_requests
    from pulse.models import IngestStatus
    monkeypatch.setattr(ingest_requests, "SHARD_GRACE", 60.0)  # would hit the test timeout
    await sync_to_async(IngestStatus.objects.create)(instance="ingest-t",
                                                     updated_at=timezone.now())
    async with running_ingest():
        state = await asyncio.wait_for(ingest_requests.snapshots(), 10)
    assert set(state["rows"]) == {"AAPL", "BTC-USD", "EURUSD", "MSFT"}
