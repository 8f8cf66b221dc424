"""End to end: a real runpulse process fires events, routes them to alice's rule and delivers
signed webhooks to a local receiver; every delivery is logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys

import pytest

from tests.alerts.receiver import running_receiver
from tests.conftest import REPO
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

TINY = json.dumps({"crypto": {"move_1m": [0.005, 0.01], "move_5m": [0.01, 0.02]}})
SETUP = """
from django.contrib.auth import get_user_model
from pulse.models import AlertRule, WebhookEndpoint
alice = get_user_model().objects.create_user("alice", password="alice-pass-123")
endpoint = WebhookEndpoint.objects.create(owner=alice, name="hook", url={url!r},
                                          secret="s3cret")
rule = AlertRule.objects.create(owner=alice, name="crypto moves", scope="asset_class",
                                asset_class="crypto", cooldown_seconds=0)
rule.endpoints.add(endpoint)
"""
REPORT = """
import json
from pulse.models import AlertDelivery, Event
print(json.dumps({"events": Event.objects.count(),
                  "states": sorted(set(AlertDelivery.objects.values_list("state", flat=True))),
                  "deliveries": AlertDelivery.objects.count()}))
"""


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_runpulse_delivers_signed_webhooks_for_a_users_rule(tmp_path):
    env = dict(os.environ, SQLITE_PATH=str(tmp_path / "db.sqlite3"), DEBUG="1",
               PULSE_WEBHOOK_ALLOW_PRIVATE="1", SIMULATOR_HISTORY="300")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    manage(env, "migrate", "--noinput")
    with running_receiver() as receiver:
        manage(env, "shell", "-c", SETUP.format(url=receiver.url + "/hook"))
        manage(env, "runpulse", "--duration", "15", "--symbols",
               "crypto:BTC-USD,crypto:ETH-USD,stocks:AAPL",
               "--engine-option", 'threshold_mode="percent"',
               "--engine-option", f"move_pct={TINY}")
        hits = list(wait_until(lambda: receiver.hits, 5, what="a webhook"))
    for hit in hits:
        body = json.loads(hit.body)
        expected = hmac.new(b"s3cret", hit.body, hashlib.sha256).hexdigest()
        assert hit.headers["X-Pulse-Signature"] == f"sha256={expected}"
        assert hit.headers["X-Pulse-Event-Id"] == body["id"] == body["event"]["id"]
        assert body["event"]["asset"] == "crypto"  # the rule's scope: no AAPL
        assert body["rule"]["name"] == "crypto moves"
    assert len({hit.headers["X-Pulse-Event-Id"] for hit in hits}) == len(hits)  # no repeats
    report = json.loads(manage(env, "shell", "-c", REPORT).strip().splitlines()[-1])
    assert report["events"] >= len(hits) and report["deliveries"] >= len(hits)
    assert "delivered" in report["states"]
