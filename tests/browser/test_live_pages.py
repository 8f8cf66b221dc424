"""The live pages in headless Chromium against runpulse --serve on the simulator.

Every check looks at what a user sees: rows with numbers that change, tabs that filter,
a symbol added to the watchlist appearing without reload, event cards explaining
themselves, a heatmap with cells, a chart with drawn pixels; screenshots are saved under
test-artifacts/ for a human look.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?%?$")
ALICE = {"BTC-USD", "ETH-USD", "EURUSD", "GBPUSD", "AAPL"}


def visible_rows(page) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#pulse-rows tr:not([hidden])",
        "trs => trs.map(tr => [...tr.children].map(td => td.textContent.trim()))",
    )


def test_alices_dashboard_shows_her_rows_with_numbers_that_update_in_place(pulse_server, browser):
    page = login(browser, pulse_server, "alice")
    page.wait_for_function("document.querySelectorAll('#pulse-rows tr').length >= 5",
                           timeout=15_000)
    page.wait_for_function("document.getElementById('conn').textContent === 'live'")
    symbols = set(page.eval_on_selector_all("#pulse-rows tr", "t => t.map(r => r.dataset.symbol)"))
    assert symbols == ALICE  # never bob's DOGE-USD or USDJPY, never the demo's universe
    for cells in visible_rows(page):
        symbol, asset, _spark, last, r1, r5 = cells[:6]
        assert symbol in ALICE and asset in {"crypto", "forex", "stocks"}
        assert float(last) > 0 and NUMBER.match(r1) and NUMBER.match(r5), cells

    row = "#pulse-rows tr[data-symbol='BTC-USD']"
    page.evaluate(f"document.querySelector(\"{row}\").__marker = 'kept'")
    before = page.text_content(f"{row} td.last")
    page.wait_for_function(
        f"document.querySelector(\"{row} td.last\").textContent !== {before!r}", timeout=15_000)
    assert page.evaluate(f"document.querySelector(\"{row}\").__marker") == "kept"
    # Sparklines: drawn from the history reply plus live snapshots.
    page.wait_for_function(
        f"document.querySelector(\"{row} polyline\").getAttribute('points').split(' ').length > 20",
        timeout=15_000)
    # Rows are ranked by |5m return| (the default horizon).
    moves = [abs(float(c[5].rstrip("%"))) for c in visible_rows(page) if c[5] != "\u2013"]
    assert moves == sorted(moves, reverse=True)

    page.click("#tabs button[data-asset=forex]")
    assert {c[1] for c in visible_rows(page)} == {"forex"}
    assert "asset=forex" in page.url
    page.select_option("#rank", "1m")
    page.select_option("#top", "10")
    assert "rank=1m" in page.url and "top=10" in page.url
    page.click("#tabs button[data-asset=all]")
    assert len(visible_rows(page)) == 5
    screenshot(page, "dashboard")

    # A shared URL restores the controls.
    page.goto(pulse_server.base + "/?asset=crypto&rank=15m")
    page.wait_for_function("document.querySelectorAll('#pulse-rows tr:not([hidden])').length")
    assert {c[1] for c in visible_rows(page)} == {"crypto"}
    assert page.input_value("#rank") == "15m"
    page.close()


def test_a_symbol_added_to_the_watchlist_appears_live(pulse_server, browser):
    page = login(browser, pulse_server, "alice")
    page.wait_for_function("document.querySelectorAll('#pulse-rows tr').length >= 5",
                           timeout=15_000)
    page.evaluate("window.__noReload = true")
    # Add the symbol the way a user does, from another window: the save notifies every
    # socket of the user, and the dashboard must show the new row without a reload.
    editor = login(browser, pulse_server, "alice")
    editor.goto(pulse_server.base + "/watchlists/")
    editor.click("table tbody tr:has(.badge-on) td:first-child a")  # the active list
    editor.fill("#add-symbol input[name=symbol]", "SOL-USD")
    editor.select_option("#add-symbol select[name=asset_class]", "crypto")
    editor.click("#add-symbol button[type=submit]")
    editor.wait_for_load_state()
    assert "SOL-USD" in editor.text_content("main")
    editor.close()
    page.wait_for_selector("#pulse-rows tr[data-symbol='SOL-USD']", timeout=10_000)
    assert page.evaluate("window.__noReload") is True
    last = page.text_content("#pulse-rows tr[data-symbol='SOL-USD'] td.last")
    assert float(last) > 0
    screenshot(page, "dashboard-symbol-added")
    page.close()


def test_correlation_card_and_heatmap_show_the_watchlists_matrix(pulse_server, browser):
    page = login(browser, pulse_server, "alice")
    page.wait_for_function("document.querySelectorAll('#heatmap .hc').length >= 16",
                           timeout=20_000)
    n = len(page.query_selector_all("#heatmap .hh.col"))
    assert len(page.query_selector_all("#heatmap .hc")) == n * n
    colored = page.eval_on_selector_all(
        "#heatmap .hc", "cs => cs.filter(c => c.style.background).length")
    assert colored >= n  # at least the diagonal has a number
    title = page.get_attribute("#heatmap .hc", "title")
    assert "coverage" in title
    assert "method kernel" in page.text_content("#corr-meta")

    # The bucket control switches the estimator and is kept in the URL.
    page.select_option("#bucket", "20")
    page.wait_for_function(
        "document.getElementById('corr-meta').textContent.includes('bucketed 20 s')",
        timeout=15_000)
    assert "bucket=20" in page.url
    # Bucketed returns still give numbers off the diagonal (the lookback fits 20 s buckets).
    page.wait_for_function(
        "[...document.querySelectorAll('#heatmap .hc')].filter(c => c.textContent).length >= 2",
        timeout=15_000)
    page.select_option("#base", "ETH-USD")
    page.wait_for_function(
        "document.getElementById('corr-meta').textContent.startsWith('base ETH-USD')",
        timeout=15_000)
    assert "base=ETH-USD" in page.url
    page.wait_for_selector("#feeds tr", timeout=10_000)
    screenshot(page, "dashboard-correlation")
    page.close()


def test_feed_health_and_an_explained_event_card_are_shown(pulse_server, browser):
    page = login(browser, pulse_server, "alice")
    page.wait_for_selector("#feeds tr", timeout=15_000)
    cells = page.eval_on_selector_all("#feeds tr td", "tds => tds.map(td => td.textContent)")
    assert cells[0] == "simulator" and cells[1].startswith("live")
    page.wait_for_function("/\\d+s/.test(document.getElementById('uptime').textContent)")
    page.wait_for_selector("#events li", timeout=60_000)
    card = page.text_content("#events li")
    assert re.search(r"(BTC-USD|ETH-USD|EURUSD|GBPUSD|AAPL|SOL-USD)", card)
    assert "value" in card and "vs" in card and "window" in card and "regime" in card
    href = page.get_attribute("#events li .ev-head a", "href")
    # Stored events link to their detail page; live ones (no DB id yet) to the history.
    assert re.match(r"^/events/(\d+/|\?symbol=)", href), href
    screenshot(page, "dashboard-event")
    page.close()


def test_the_symbol_page_draws_the_last_hour_and_shows_metrics(pulse_server, browser):
    page = login(browser, pulse_server, "alice")
    page.goto(pulse_server.base + "/symbols/crypto/BTC-USD/")
    page.wait_for_selector("#chart canvas", timeout=15_000)
    page.wait_for_function(
        "parseInt(document.getElementById('chart-meta').textContent) > 100", timeout=15_000)
    page.wait_for_function(
        "/\\d/.test(document.querySelector('#metrics dd[data-key=last]').textContent)",
        timeout=15_000)
    # The canvas has drawn content: many non-transparent pixels in several colours.
    colours = page.evaluate("""() => {
        const c = document.querySelector('#chart canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set(); let painted = 0;
        for (let i = 0; i < d.length; i += 16) {
            if (d[i + 3] > 0) { painted++; seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]); }
        }
        return [painted, seen.size];
    }""")
    assert colours[0] > 500 and colours[1] > 3, colours
    vol = page.text_content("#metrics dd[data-key=vol_15m]")
    assert vol.endswith("%")
    assert page.text_content("#metrics dd[data-key=tick_rate]").endswith("/s")
    screenshot(page, "symbol")

    missing = page.goto(pulse_server.base + "/symbols/crypto/NOPE-USD/")
    assert missing.status == 404
    page.close()


def test_the_dashboard_fits_a_phone_screen(pulse_server, browser):
    page = login(browser, pulse_server, "alice", width=390, height=844)
    page.wait_for_function("document.querySelectorAll('#pulse-rows tr').length >= 5",
                           timeout=15_000)
    page.wait_for_selector("#heatmap .hc", timeout=20_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    cells = visible_rows(page)[0]
    assert float(cells[3]) > 0  # last price visible
    screenshot(page, "dashboard-phone")
    page.close()


def test_event_history_page_lists_events_and_exports_csv(pulse_server, browser):
    page = login(browser, pulse_server, "alice")
    response = page.goto(pulse_server.base + "/events/")
    assert response.status == 200
    rows = page.query_selector_all("table tbody tr")
    assert rows, "the simulator with tiny thresholds has fired events by now"
    page.click("table tbody tr a")
    page.wait_for_url("**/events/*/")
    assert page.query_selector("table") is not None  # the explanation table
    screenshot(page, "event-detail")
    page.goto(pulse_server.base + "/events/")
    screenshot(page, "events")
    csv = page.request.get(pulse_server.base + "/events/export.csv")
    assert csv.status == 200 and "text/csv" in csv.headers["content-type"]
    lines = csv.text().strip().splitlines()
    assert len(lines) >= 2 and "symbol" in lines[0].lower()
    page.close()
