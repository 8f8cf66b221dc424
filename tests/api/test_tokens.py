"""API token lifecycle: created per user, hashed at rest, shown once, used, revoked, expired."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from pulse.api import tokens
from pulse.models import ApiToken

pytestmark = pytest.mark.django_db


def test_it_stores_only_a_digest_and_a_short_prefix(alice):
    token, raw = tokens.create(alice, "notebook")
    assert re.fullmatch(r"mp_[a-z2-9]{8}_[A-Za-z0-9_-]{43}", raw)
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == tokens.digest(raw) != raw
    assert raw.split("_", 2)[2] not in {stored.digest, stored.prefix, stored.name}
    assert raw.startswith(f"mp_{stored.prefix}_")


def test_it_authenticates_a_token_and_records_its_last_use(alice):
    token, raw = tokens.create(alice, "bot")
    found = tokens.authenticate(raw)
    assert found is not None and found.pk == token.pk and found.user == alice
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


@pytest.mark.parametrize("mangle", [
    lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # right prefix, wrong secret
    lambda raw: "mp_zzzzzzzz_" + raw.split("_", 2)[2],  # unknown prefix
    lambda raw: raw + "x",  # malformed
    lambda raw: "",
    lambda raw: "Bearer " + raw,
])
def test_it_refuses_wrong_or_malformed_tokens(alice, mangle):
    _, raw = tokens.create(alice, "bot")
    assert tokens.authenticate(mangle(raw)) is None


def test_it_refuses_revoked_and_expired_tokens_and_inactive_users(alice, bob):
    revoked, raw_revoked = tokens.create(alice, "old")
    tokens.revoke(revoked)
    _, raw_expired = tokens.create(alice, "short", timezone.now() - dt.timedelta(seconds=1))
    _, raw_future = tokens.create(alice, "long", timezone.now() + dt.timedelta(days=1))
    _, raw_bob = tokens.create(bob, "bob")
    bob.is_active = False
    bob.save()
    assert tokens.authenticate(raw_revoked) is None
    assert tokens.authenticate(raw_expired) is None
    assert tokens.authenticate(raw_bob) is None
    assert tokens.authenticate(raw_future) is not None


def test_the_token_page_shows_a_new_token_once(alice):
    client = Client()
    client.force_login(alice)
    response = client.post("/api/tokens/new/", {"name": "research", "lifetime": "30"})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    raw = re.search(r'value="(mp_[^"]+)"', response.content.decode()).group(1)
    token = tokens.authenticate(raw)
    assert token is not None and token.user == alice and token.expires_at is not None
    listing = client.get("/api/tokens/").content.decode()
    assert "research" in listing and f"mp_{token.prefix}_" in listing
    assert raw not in listing


def test_the_token_page_rejects_a_blank_name_and_bad_lifetime(alice):
    client = Client()
    client.force_login(alice)
    assert client.post("/api/tokens/new/", {"name": ""}).status_code == 400
    assert client.post("/api/tokens/new/", {"name": "x", "lifetime": "9999"}).status_code == 400
    assert not ApiToken.objects.exists()


def test_a_user_revokes_their_own_token_but_not_another_users(alice, bob):
    token, raw = tokens.create(alice, "alice-private-token")
    bob_client = Client()
    bob_client.force_login(bob)
    assert bob_client.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    assert "alice-private-token" not in bob_client.get("/api/tokens/").content.decode()
    assert tokens.authenticate(raw) is not None
    alice_client = Client()
    alice_client.force_login(alice)
    assert alice_client.get(f"/api/tokens/{token.pk}/revoke/").status_code == 405
    response = alice_client.post(f"/api/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert tokens.authenticate(raw) is None
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_the_token_pages_require_login():
    response = Client().get("/api/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Client().post("/api/tokens/new/", {"name": "x"}).status_code == 302
    assert not ApiToken.objects.exists()


def test_the_admin_creates_a_token_for_the_staff_user_and_shows_it_once(rf, django_user_model):
    from django.contrib import admin
    from django.contrib.messages.storage.fallback import FallbackStorage

    from pulse.api.admin import ApiTokenAdmin

    carol = django_user_model.objects.create_user("carol", password="x", is_staff=True)
    model_admin = ApiTokenAdmin(ApiToken, admin.site)
    request = rf.post("/admin/pulse/apitoken/add/")
    request.user = carol
    request.session = {}
    request._messages = FallbackStorage(request)
    obj = ApiToken(name="ci")
    model_admin.save_model(request, obj, form=None, change=False)
    raw = re.search(r"(mp_\S+)", str(next(iter(request._messages)))).group(1)
    token = tokens.authenticate(raw)
    assert token is not None and token.user == carol and token.pk == obj.pk
    other = django_user_model.objects.create_user("dave", password="x")
    tokens.create(other, "dave's")
    assert list(model_admin.get_queryset(request)) == [token]
