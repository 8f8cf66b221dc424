"""Reading number fields of event dicts: only finite real numbers count as values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pulse.engine.events import finite_number


@pytest.mark.parametrize(("raw", "number"), [
    (3, 3.0), (-0.25, -0.25), (0, 0.0),
    (True, None), (False, None), ("1.5", None), (None, None), (Decimal("1"), None),
    (float("nan"), None), (float("inf"), None), (float("-inf"), None),
])
def test_only_finite_ints_and_floats_are_numbers(raw, number):
    value = finite_number(raw)
    assert value == number and (value is None or type(value) is float)
