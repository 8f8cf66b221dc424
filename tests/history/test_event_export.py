"""CSV export of the filtered history: headers, content, filters, injection safety, streaming."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.http import StreamingHttpResponse
from django.test import AsyncClient

from pulse.history import csv_export
from pulse.history.csv_export import HEADER, neutralize
from tests.factories import T0, make_event

pytestmark = pytest.mark.django_db


def rows(response) -> list[dict[str, str]]:
    """Parse a streamed CSV response (sync client) into dicts."""
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_it_streams_a_csv_attachment_with_a_header_row(alice_client):
    make_event("AAPL", ts=T0, message="AAPL rose +1.23% in 60s")
    response = alice_client.get("/events/export.csv")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="market-pulse-events-')
    assert disposition.endswith('Z.csv"')
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[0] == ",".join(HEADER)
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["symbol"] == "AAPL" and row["asset_class"] == "stocks"
    assert row["ts_utc"] == "2026-11-23T12:00:00+00:00"
    assert float(row["value"]) == pytest.approx(0.0123) and float(row["z"]) == 5.4
    assert row["window_s"] == "60.0" and row["ref_price"] == "100.0" and row["ref_age_s"] == "2.0"
    assert row["message"] == "AAPL rose +1.23% in 60s"  # a leading letter is left alone


def test_it_exports_exactly_the_filtered_set_newest_first(alice_client):
    make_event("AAPL", ts=T0)
    make_event("AAPL", ts=T0 + dt.timedelta(minutes=1), severity="critical")
    make_event("MSFT", ts=T0, severity="critical")
    make_event("AAPL", ts=T0 - dt.timedelta(days=3), severity="critical")
    got = rows(alice_client.get("/events/export.csv?symbol=AAPL&severity=critical"
                                "&date_from=2026-11-21"))
    assert [(r["symbol"], r["severity"], r["ts_utc"]) for r in got] == [
        ("AAPL", "critical", "2026-11-23T12:01:00+00:00")
    ]


def test_only_my_watchlist_export_uses_my_own_list(alice, bob, alice_client, bob_client):
    from tests.factories import make_watchlist

    make_watchlist(alice, "Tech", [("stocks", "AAPL")], default=True)
    make_watchlist(bob, "Bob", [("stocks", "MSFT")], default=True)
    make_event("AAPL")
    make_event("MSFT")
    assert [r["symbol"] for r in rows(alice_client.get("/events/export.csv?mine=on"))] == ["AAPL"]
    assert [r["symbol"] for r in rows(bob_client.get("/events/export.csv?mine=on"))] == ["MSFT"]


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                     "\tcmd", "\rcmd"])
def test_cells_that_spreadsheets_would_run_are_neutralized(alice_client, payload):
    make_event("AAPL", message=payload, regime=payload[:16])
    (row,) = rows(alice_client.get("/events/export.csv"))
    assert row["message"] == "'" + payload
    assert row["regime"] == "'" + payload[:16]
    assert neutralize(payload) == "'" + payload
    assert neutralize("safe text") == "safe text"


def test_negative_numbers_stay_numbers(alice_client):
    make_event("AAPL", value=-0.02, direction="down")
    from pulse.models import Event

    Event.objects.update(value=-0.02, z=-6.1)
    (row,) = rows(alice_client.get("/events/export.csv"))
    assert row["value"] == "-0.02" and row["z"] == "-6.1"


def test_bad_filters_are_a_400_with_the_reason(alice_client):
    response = alice_client.get("/events/export.csv?date_from=soon")
    assert response.status_code == 400
    assert "date_from" in response.content.decode()


def test_large_exports_are_read_in_batches(alice_client, monkeypatch):
    monkeypatch.setattr(csv_export, "BATCH_SIZE", 7)
    for i in range(30):
        make_event("AAPL", ts=T0 + dt.timedelta(seconds=i // 3))  # ties broken by id
    calls = []
    real = csv_export._batch

    def counting(queryset, after):
        calls.append(after)
        return real(queryset, after)

    monkeypatch.setattr(csv_export, "_batch", counting)
    got = rows(alice_client.get("/events/export.csv"))
    assert len(got) == 30 and len({r["id"] for r in got}) == 30
    assert [int(r["id"]) for r in got] == sorted((int(r["id"]) for r in got), reverse=True)
    assert len(calls) == 5  # 7+7+7+7+2: never the whole set at once


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_export_streams_an_async_iterator(alice):
    await sync_to_async(make_event)("AAPL", message="=1+1")
    await sync_to_async(make_event)("MSFT", ts=T0 + dt.timedelta(seconds=1))
    client = AsyncClient()
    await sync_to_async(client.force_login)(alice)
    response = await client.get("/events/export.csv?asset_class=stocks")
    assert response.status_code == 200 and response.is_async
    text = "".join([part.decode() async for part in response.streaming_content])
    got = list(csv.DictReader(io.StringIO(text)))
    assert [r["symbol"] for r in got] == ["MSFT", "AAPL"]
    assert got[1]["message"] == "'=1+1"
    # The worker thread's connection would keep PostgreSQL from dropping the test database.
    await sync_to_async(connections.close_all)()
