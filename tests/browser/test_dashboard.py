"""The dashboard in a real headless Chromium against runpulse --serve on the simulator."""

from __future__ import annotations

import time

import pytest

from tests.conftest import REPO
from tests.live_server import start_server, wait_for_http

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture
def browser(chromium_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls
    # from such threads unless told otherwise (tests only, never in deployment).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


def test_rows_arrive_within_3s_and_are_patched_in_place(tmp_path, free_port, browser):
    proc = start_server(tmp_path, free_port, "--duration", "60")
    base = f"http://127.0.0.1:{free_port}"
    try:
        wait_for_http(base + "/accounts/login/", proc)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/")
        assert "/accounts/login/" in page.url
        page.fill("#id_username", "demo")
        page.fill("#id_password", "demo")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        loaded = time.monotonic()
        page.wait_for_function(
            "document.querySelectorAll('#pulse-rows tr').length >= 10", timeout=3000
        )
        assert time.monotonic() - loaded <= 3.5
        assert page.text_content("#conn") == "live"

        # Mark the BTC-USD row's DOM node, wait for its price to change, and check the same
        # node was updated (no re-render replaced it) and the page never reloaded.
        page.evaluate("window.__noReload = true")
        row = "#pulse-rows tr[data-symbol='BTC-USD']"
        before = page.text_content(f"{row} td.last")
        page.evaluate(f"document.querySelector(\"{row}\").__marker = 'kept'")
        page.wait_for_function(
            f"document.querySelector(\"{row} td.last\").textContent !== {before!r}",
            timeout=10_000,
        )
        assert page.evaluate(f"document.querySelector(\"{row}\").__marker") == "kept"
        assert page.evaluate("window.__noReload") is True
        cells = page.eval_on_selector_all(f"{row} td", "tds => tds.map(td => td.textContent)")
        assert cells[0] == "BTC-USD" and cells[1] == "crypto"
        assert float(cells[2]) > 0 and cells[3].endswith("%")

        # The asset-class tabs filter rows and live in the URL.
        page.click("#tabs button[data-asset=forex]")
        visible = page.eval_on_selector_all(
            "#pulse-rows tr:not([hidden])", "trs => trs.map(tr => tr.children[1].textContent)"
        )
        assert visible and set(visible) == {"forex"}
        assert page.url.endswith("?asset=forex")

        ARTIFACTS.mkdir(exist_ok=True)
        page.click("#tabs button[data-asset=all]")
        shot = ARTIFACTS / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        proc.kill()
        proc.wait(timeout=10)
