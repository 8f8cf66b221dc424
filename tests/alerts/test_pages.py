"""Alert pages and admin: login required, CSRF forms, owner scoping (alice vs bob)."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from pulse.models import AlertDelivery, AlertRule, WebhookEndpoint
from tests.alerts.factories import endpoint, rule, watchlist

pytestmark = pytest.mark.django_db

RULE_FORM = {"name": "BTC drops", "scope": "symbol", "symbol": " btc-usd ",
             "event_types": ["move_1m"], "min_severity": "warning", "mode": "every",
             "cooldown_seconds": "300", "max_per_minute": "10", "timezone": "Europe/Paris",
             "in_app": "on"}


def login(client, user):
    client.force_login(user)
    return client


def test_every_alert_page_requires_login(client):
    for name in ("alerts", "alert_rule_new", "alert_endpoint_new", "alert_deliveries"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_alice_creates_a_rule_and_bad_input_is_refused(client, alice):
    login(client, alice)
    response = client.post(reverse("alert_rule_new"), RULE_FORM)
    assert response.status_code == 302
    saved = AlertRule.objects.get()
    assert (saved.owner, saved.symbol, saved.event_types) == (alice, "BTC-USD", ["move_1m"])
    bad = {**RULE_FORM, "symbol": "", "timezone": "Mars/Olympus", "quiet_start": "22:00"}
    response = client.post(reverse("alert_rule_new"), bad)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"symbol", "timezone", "quiet_end"} <= set(errors)
    page = client.get(reverse("alerts")).content.decode()
    assert "BTC drops" in page and "csrfmiddlewaretoken" in page


def test_bob_cannot_see_edit_or_delete_alices_rules_or_use_her_objects(client, alice, bob):
    alices_list = watchlist(alice, "Tech", [("stocks", "AAPL")])
    alices_hook = endpoint(alice)
    alices_rule = rule(alice, [alices_hook], name="alice-secret-rule")
    login(client, bob)
    assert "alice-secret-rule" not in client.get(reverse("alerts")).content.decode()
    assert client.get(reverse("alert_rule_edit", args=[alices_rule.pk])).status_code == 404
    assert client.post(reverse("alert_rule_action", args=[alices_rule.pk]),
                       {"action": "delete"}).status_code == 404
    assert client.get(reverse("alert_endpoint_edit", args=[alices_hook.pk])).status_code == 404
    assert client.post(reverse("alert_endpoint_delete",
                               args=[alices_hook.pk])).status_code == 404
    response = client.post(reverse("alert_rule_new"), {
        **RULE_FORM, "scope": "watchlist", "watchlist": alices_list.pk,
        "endpoints": [alices_hook.pk]})
    assert response.status_code == 400
    assert {"watchlist", "endpoints"} <= set(response.context["form"].errors)
    assert AlertRule.objects.filter(owner=bob).count() == 0
    assert AlertRule.objects.filter(pk=alices_rule.pk).exists()


def test_pause_resume_and_re_arm_from_the_rules_page(client, alice):
    saved = rule(alice, mode="once", armed=False)
    login(client, alice)
    url = reverse("alert_rule_action", args=[saved.pk])
    client.post(url, {"action": "pause"})
    assert AlertRule.objects.get().paused
    client.post(url, {"action": "resume"})
    client.post(url, {"action": "rearm"})
    saved.refresh_from_db()
    assert not saved.paused and saved.armed
    assert client.post(url, {"action": "explode"}).status_code == 400
    assert client.get(url).status_code == 405
    client.post(url, {"action": "delete"})
    assert not AlertRule.objects.exists()


def test_endpoints_on_loopback_are_refused_unless_the_setting_allows(client, alice, settings):
    login(client, alice)
    data = {"name": "local", "url": "http://127.0.0.1:9/hook", "active": "on"}
    response = client.post(reverse("alert_endpoint_new"), data)
    assert response.status_code == 400 and "loopback" in str(response.context["form"].errors)
    settings.PULSE_WEBHOOK_ALLOW_PRIVATE = True
    assert client.post(reverse("alert_endpoint_new"), data).status_code == 302
    hook = WebhookEndpoint.objects.get()
    assert hook.owner == alice and len(hook.secret) == 64
    page = client.get(reverse("alert_endpoint_edit", args=[hook.pk])).content.decode()
    assert hook.secret in page


def test_the_delivery_log_shows_only_the_users_rows_and_retries_failed_ones(client, alice, bob):
    hook, bob_hook = endpoint(alice), endpoint(bob)
    mine = AlertDelivery.objects.create(owner=alice, endpoint=hook, event_id="A|x|up|1.0",
                                        state="failed", attempts=8, last_error="HTTP 500")
    theirs = AlertDelivery.objects.create(owner=bob, endpoint=bob_hook, event_id="B|x|up|1.0",
                                          state="failed")
    login(client, alice)
    page = client.get(reverse("alert_deliveries")).content.decode()
    assert "A|x|up|1.0" in page and "B|x|up|1.0" not in page and "HTTP 500" in page
    assert list(client.get(reverse("alert_deliveries") + "?state=delivered").context[
        "page"].object_list) == []
    assert client.post(reverse("alert_delivery_retry", args=[theirs.pk])).status_code == 404
    client.post(reverse("alert_delivery_retry", args=[mine.pk]))
    mine.refresh_from_db()
    assert (mine.state, mine.attempts) == ("pending", 0)
    assert mine.next_attempt_at.timestamp() <= time.time()


def test_admin_scopes_rules_and_deliveries_to_their_owner(client, alice, bob):
    alice.is_staff = True
    alice.save()
    alice.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_alertrule", "change_alertrule", "view_alertdelivery"]))
    rule(alice, name="alice-rule")
    rule(bob, name="bob-rule")
    AlertDelivery.objects.create(owner=bob, endpoint=endpoint(bob), event_id="bob-event")
    login(client, alice)
    page = client.get("/admin/pulse/alertrule/").content.decode()
    assert "alice-rule" in page and "bob-rule" not in page
    bob_rule = AlertRule.objects.get(name="bob-rule")
    assert client.get(f"/admin/pulse/alertrule/{bob_rule.pk}/change/").status_code == 302
    assert "bob-event" not in client.get("/admin/pulse/alertdelivery/").content.decode()
