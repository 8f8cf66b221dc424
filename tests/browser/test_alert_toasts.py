"""Alert toasts in headless Chromium: a real stress event reaches the rule owner's dashboard.

Nothing is injected: the module's ``runpulse --serve`` (simulator, tiny thresholds) fires
events, its event store routes them through the rules created here in the server's own
database, the notice goes to the owner's group over the server's in-memory channel layer,
the consumer's ``pulse_alert`` forwards it and the dashboard script draws the toast.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import LiveServer, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Event flushes are once a second and the simulator fires within seconds at these
# thresholds; a minute leaves room for a slow machine.
FIRE_TIMEOUT_MS = 60_000
# carol and dave each own one rule; bob (from the shared setup) owns none.
CAROL = ["BTC-USD", "ETH-USD", "SOL-USD", "EURUSD", "GBPUSD"]
SETUP = """
from django.contrib.auth import get_user_model
from pulse.models import Instrument, Watchlist, WatchlistItem
User = get_user_model()
for name, symbols in [("carol", [("crypto", "BTC-USD"), ("crypto", "ETH-USD"),
                                 ("crypto", "SOL-USD"), ("forex", "EURUSD"),
                                 ("forex", "GBPUSD")]),
                      ("dave", [("crypto", "BTC-USD")])]:
    user = User.objects.create_user(name, password=name + "-pass-123")
    w = Watchlist.objects.create(owner=user, name=name.title() + " list", is_default=True)
    for i, (asset, symbol) in enumerate(symbols):
        inst, _ = Instrument.objects.get_or_create(asset_class=asset, symbol=symbol)
        WatchlistItem.objects.create(watchlist=w, instrument=inst, position=i)
"""
RULE = """
from pulse.models import AlertRule, Watchlist
owner = Watchlist.objects.get(name={list!r}).owner
AlertRule.objects.create(owner=owner, name={name!r}, **{fields!r},
                         watchlist=Watchlist.objects.get(name={list!r}))
"""
RULE_STATE = """
import json
from pulse.models import AlertDelivery, AlertRule, Event
rule = AlertRule.objects.get(name={name!r})
print(json.dumps({{
    "armed": rule.armed, "fired": rule.last_fired_at is not None,
    "throttled_count": rule.throttled_count,
    "throttled_rows": AlertDelivery.objects.filter(rule=rule, state="throttled").count(),
    "webhook_rows": AlertDelivery.objects.filter(rule=rule, endpoint__isnull=False).count(),
    "event_symbols": sorted(set(Event.objects.values_list("symbol", flat=True))),
}}))
"""


@pytest.fixture(scope="module")
def users(pulse_server: LiveServer) -> LiveServer:
    """carol and dave with their watchlists, in the server's database."""
    pulse_server.shell(SETUP)
    return pulse_server


def add_rule(server: LiveServer, watchlist: str, name: str, **fields: object) -> None:
    """Create a rule on ``watchlist`` for its owner; ingest loads it at its next flush."""
    server.shell(RULE.format(list=watchlist, name=name,
                             fields={"scope": "watchlist", "in_app": True, **fields}))


def rule_state(server: LiveServer, name: str) -> dict:
    return json.loads(server.shell(RULE_STATE.format(name=name)).strip().splitlines()[-1])


def open_live_dashboard(browser: object, server: LiveServer, username: str) -> object:
    """Log in and wait until the socket is open (it joined the user's group)."""
    page = login(browser, server, username)
    page.wait_for_function("document.getElementById('conn').textContent === 'live'",
                           timeout=15_000)
    return page


def toasts(page: object, selector: str = "#toasts .toast") -> list[str]:
    return page.eval_on_selector_all(selector, "ts => ts.map(t => t.textContent)")


def test_a_fired_rule_toasts_its_owner_with_rule_and_symbol_and_a_click_dismisses_it(
        users, browser):
    page = open_live_dashboard(browser, users, "carol")
    other = open_live_dashboard(browser, users, "bob")  # owns no rule: must see nothing
    assert toasts(page) == [] and toasts(other) == []
    # Once mode: the first matching event fires it and disarms it, so exactly one toast.
    add_rule(users, "Carol list", "Carol any stress", mode="once", cooldown_seconds=0)

    page.wait_for_selector("#toasts .toast", timeout=FIRE_TIMEOUT_MS)
    [text] = toasts(page)
    assert "toast-warn" not in page.get_attribute("#toasts .toast", "class")
    # "<rule>: <event message>", and the message starts with the event's symbol.
    match = re.match(r"^Carol any stress: (\S+) ", text)
    assert match and match.group(1) in CAROL, text
    symbol = match.group(1)
    assert re.search(r"(rose|fell) [+-]\d+\.\d+%|realized vol", text), text
    assert page.get_attribute("#toasts", "aria-live") == "polite"
    screenshot(page, "dashboard-alert-toast")

    # A click dismisses it at once (it would otherwise stay for 10 s).
    page.click("#toasts .toast")
    page.wait_for_selector("#toasts .toast", state="detached", timeout=2_000)
    assert toasts(page) == []

    state = rule_state(users, "Carol any stress")
    assert state["fired"] and not state["armed"]  # the server really fired it, once
    assert state["webhook_rows"] == 0  # in-app only: nothing for the dispatcher
    assert symbol in state["event_symbols"]
    assert toasts(other) == []  # bob's dashboard never sees carol's alert
    page.close()
    other.close()


def test_a_rule_over_its_rate_limit_shows_a_warning_toast(users, browser):
    page = open_live_dashboard(browser, users, "dave")
    # Every event on every crypto symbol, at most one a minute: the second one throttles.
    add_rule(users, "Dave list", "Dave crypto flood", scope="asset_class",
             asset_class="crypto", cooldown_seconds=0, max_per_minute=1)

    page.wait_for_selector("#toasts .toast-warn", timeout=FIRE_TIMEOUT_MS)
    warning = toasts(page, "#toasts .toast-warn")[-1]
    assert re.match(r"^Rule \u201cDave crypto flood\u201d is firing too often: [1-9]\d* "
                    r"alerts held back \(limit 1/min\)\.$", warning), warning
    state = rule_state(users, "Dave crypto flood")
    assert state["throttled_count"] >= 1 and state["throttled_rows"] >= 1
    screenshot(page, "dashboard-alert-throttled")
    page.close()
