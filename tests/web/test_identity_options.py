"""``runpulse --symbols`` keeps one asset class per symbol: a one-line error, exit 1."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from pulse.feeds.base import SymbolRef
from pulse.ingest.symbols import check_known_classes, parse_symbols
from pulse.models import Instrument
from tests.conftest import REPO

TWICE = ("SOL-USD is given twice, as crypto:SOL-USD and forex:SOL-USD: "
         "a symbol has one asset class.")


@pytest.mark.slow
def test_one_symbol_with_two_classes_exits_1_with_one_line():
    out = subprocess.run(
        [sys.executable, "manage.py", "runpulse", "--symbols",
         "stocks:AAPL,crypto:SOL-USD,forex:sol-usd"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert lines == [f"CommandError: --symbols: {TWICE}"]


def test_repeats_in_one_class_are_merged_not_refused():
    assert parse_symbols("crypto:SOL-USD,crypto:sol-usd,stocks:AAPL") == [
        SymbolRef("crypto", "SOL-USD"), SymbolRef("stocks", "AAPL")]


@pytest.mark.django_db
def test_a_known_symbol_with_another_class_is_refused_before_anything_starts():
    Instrument.objects.create(symbol="SOL-USD", asset_class="crypto")
    with pytest.raises(CommandError) as info:
        call_command("runpulse", "--symbols", "stocks:AAPL,forex:SOL-USD", "--duration", "5")
    assert str(info.value) == ("--symbols: SOL-USD is a Crypto instrument (crypto:SOL-USD), "
                               "not Forex.")


@pytest.mark.django_db
def test_known_symbols_in_their_class_and_new_symbols_pass():
    Instrument.objects.create(symbol="SOL-USD", asset_class="crypto")
    check_known_classes([SymbolRef("crypto", "SOL-USD"), SymbolRef("forex", "NEWPAIR")])


@pytest.mark.django_db
def test_setup_demo_uses_a_known_symbol_as_it_is(settings, django_user_model):
    """The demo's SOL-USD already exists in another class: used, never created twice."""
    settings.DEBUG = True
    Instrument.objects.create(symbol="SOL-USD", asset_class="forex")
    call_command("setup_demo")
    assert list(Instrument.objects.filter(symbol="SOL-USD").values_list("asset_class", flat=True)
                ) == ["forex"]
    demo = django_user_model.objects.get(username="demo").watchlists.get()
    assert demo.items.filter(instrument__symbol="SOL-USD").count() == 1
