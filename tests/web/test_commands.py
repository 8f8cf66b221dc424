"""Command-line contracts of runpulse, replay and setup_demo: bad input fails in one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from pulse.alerts.forms import AlertRuleForm
from pulse.alerts.router import AlertRouter
from pulse.models import AlertDelivery, AlertRule
from tests.conftest import REPO


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--symbols", "bonds:XYZ"], "unknown asset class 'bonds'"),
        (["--symbols", "AAPL"], "expected CLASS:SYMBOL"),
        (["--symbols", ","], "--symbols is empty"),
        (["--serve", "localhost"], "expected HOST:PORT"),
        (["--serve", "127.0.0.1:99999"], "port out of range"),
        (["--duration", "-1"], "--duration must be a positive"),
        (["--feed", "replay"], "--feed replay needs at least one --replay-file"),
        (["--replay-file", "x.ndjson"], "only used with --feed replay"),
        (["--corr-window", "0"], "--corr-window must be a positive"),
        (["--corr-method", "astrology"], "--corr-method must be one of"),
        (["--engine-option", "novalue"], "expects KEY=VALUE"),
        (["--engine-option", "no_such_setting=1"], "no_such_setting"),
        (["--queue-size", "0"], "--queue-size must be at least 1"),
    ],
)
def test_runpulse_rejects_bad_options_with_a_clear_reason(args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("runpulse", *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/file.ndjson"], "no such file"),
        (["{file}", "--speed", "fast"], "--speed must be 'max' or a positive factor"),
        (["{file}", "--speed", "0"], "--speed must be 'max' or a positive factor"),
        (["{file}", "--corr-every", "0"], "--corr-every must be positive"),
    ],
)
def test_replay_rejects_bad_arguments(tmp_path, args, message):
    path = tmp_path / "t.ndjson"
    path.write_text('{"symbol":"AAPL","asset":"stocks","ts":1,"price":1}\n')
    args = [a.replace("{file}", str(path)) for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("replay", *args)


@pytest.mark.slow
def test_an_unknown_feed_exits_non_zero_with_one_line():
    out = subprocess.run(
        [sys.executable, "manage.py", "runpulse", "--feed", "nasdaq-totalview"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode != 0
    assert "invalid choice: 'nasdaq-totalview'" in out.stderr


@pytest.mark.slow
def test_a_bad_symbol_exits_non_zero_with_one_line_reason():
    out = subprocess.run(
        [sys.executable, "manage.py", "runpulse", "--symbols", "stocks:"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines == ["CommandError: --symbols: expected CLASS:SYMBOL, got 'stocks:'"]


@pytest.mark.django_db
def test_setup_demo_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("setup_demo")


@pytest.mark.django_db
def test_setup_demo_creates_the_demo_user_once(settings, django_user_model):
    settings.DEBUG = True
    call_command("setup_demo")
    call_command("setup_demo")
    user = django_user_model.objects.get(username="demo")
    assert user.check_password("demo")
    watchlist = user.watchlists.get()
    assert watchlist.is_default and watchlist.items.count() >= 17
    # One example alert rule (not one per run): the demo's own, on its watchlist, a toast
    # only, and valid for the rule form the alerts page uses.
    rule = AlertRule.objects.get()
    assert rule.owner == user and rule.watchlist == watchlist
    assert rule.scope == "watchlist" and rule.in_app and not rule.paused and rule.armed
    assert not rule.endpoints.exists() and not user.webhook_endpoints.exists()
    data = {k: v for k, v in model_to_dict(rule, fields=AlertRuleForm.Meta.fields).items()
            if v is not None and v is not False}
    form = AlertRuleForm(data=data, instance=rule, owner=user)
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_the_demo_rule_toasts_a_stress_event_on_the_demo_watchlist_only(settings):
    settings.DEBUG = True
    call_command("setup_demo")
    rule = AlertRule.objects.get()
    symbols = list(rule.watchlist.items.values_list("instrument__symbol", flat=True))
    on_list = {"id": f"{symbols[0]}|move_1m|up|1.0", "symbol": symbols[0], "asset": "crypto",
               "type": "move_1m", "direction": "up", "severity": "warning", "ts": 1.0,
               "value": 0.02, "z": 4.0, "message": f"{symbols[0]} rose"}
    off_list = {**on_list, "id": "NOPE-USD|move_1m|up|1.0", "symbol": "NOPE-USD"}
    router = AlertRouter(clock=lambda: 100.0)
    notices = router.route([off_list, on_list])
    assert [n.user_id for n in notices] == [rule.owner_id]
    toast = json.loads(notices[0].text)
    assert toast["type"] == "alert" and toast["rule"]["name"] == rule.name
    assert toast["event"]["symbol"] == symbols[0]
    assert not AlertDelivery.objects.exists()  # no webhook: nothing for the dispatcher
