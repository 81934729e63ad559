"""The one formatter at its boundaries: rounding before the suffix, sign before the symbol, every
kind of missing value."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spm_core.formatting import (
    NO_VALUE,
    by_unit,
    count,
    days,
    exact_by_unit,
    is_missing,
    money,
    money_exact,
    percent,
    ratio,
)

M = "\u2212"  # the minus sign every formatter puts before the symbol

MONEY = [
    (0, "$0"),
    (0.4, "$0"),
    (-0.4, "$0"),  # rounds to zero: no sign
    (999, "$999"),
    (999.49, "$999"),
    (999.5, "$1.0K"),
    (999.95, "$1.0K"),
    (1000, "$1.0K"),
    (1500, "$1.5K"),
    (-1500, f"{M}$1.5K"),
    (999_949, "$999.9K"),
    (999_950, "$1.0M"),
    (999_999, "$1.0M"),
    (-999_999, f"{M}$1.0M"),
    (1_000_000, "$1.0M"),
    (1_250_000, "$1.2M"),  # 1.25 is exact in binary, and format rounds half to even
    (999_949_999, "$999.9M"),
    (999_999_999, "$1.0B"),
    (2_500_000_000, "$2.5B"),
    (999_999_999_999, "$1.0T"),
    (1e18, "$1,000,000.0T"),
    (-1e18, f"{M}$1,000,000.0T"),
    (np.float64(-2500.0), f"{M}$2.5K"),
    (np.int64(42), "$42"),
    (None, NO_VALUE),
    (math.nan, NO_VALUE),
    (np.nan, NO_VALUE),
    (pd.NA, NO_VALUE),
    (pd.NaT, NO_VALUE),
    (math.inf, NO_VALUE),
    (-math.inf, NO_VALUE),
]


@pytest.mark.parametrize(("value", "text"), MONEY)
def test_money(value, text):
    assert money(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0"),
        (-0.4, "$0"),
        (999.95, "$1,000"),
        (999_950, "$999,950"),
        (999_999_999, "$999,999,999"),
        (-1500, f"{M}$1,500"),
        (1e18, "$1,000,000,000,000,000,000"),
        (pd.NA, NO_VALUE),
        (pd.NaT, NO_VALUE),
        (None, NO_VALUE),
    ],
)
def test_money_exact(value, text):
    assert money_exact(value) == text


@pytest.mark.parametrize(
    ("formatter", "value", "text"),
    [
        (percent, 0.1234, "12.3%"),
        (percent, -0.05, f"{M}5.0%"),
        (percent, -0.0004, "0.0%"),
        (percent, 0, "0.0%"),
        (count, 1_234_567, "1,234,567"),
        (count, -3, f"{M}3"),
        (days, 12.4, "12 days"),
        (days, -2, f"{M}2 days"),
        (ratio, 3.04, "3.0x"),
        (ratio, -1.25, f"{M}1.2x"),
    ],
)
def test_other_units(formatter, value, text):
    assert formatter(value) == text


@pytest.mark.parametrize("formatter", [money, money_exact, percent, count, days, ratio])
@pytest.mark.parametrize("value", [None, math.nan, pd.NA, pd.NaT, np.nan, np.float64("nan")])
def test_every_missing_value_is_a_dash(formatter, value):
    assert is_missing(value) and formatter(value) == NO_VALUE


@pytest.mark.parametrize("value", [0, 0.0, -1, "", "x", [1, 2], pd.Timestamp("2026-01-01")])
def test_present_values_are_not_missing(value):
    assert not is_missing(value)


@pytest.mark.parametrize(
    ("unit", "value", "compact", "exact"),
    [
        ("currency", 1_234_567, "$1.2M", "$1,234,567"),
        ("currency_per_day", -1500, f"{M}$1.5K/day", f"{M}$1.5K/day"),
        ("currency_per_day", pd.NA, NO_VALUE, NO_VALUE),
        ("percent", 0.5, "50.0%", "50.0%"),
        ("count", 12, "12", "12"),
    ],
)
def test_by_unit_and_exact_by_unit(unit, value, compact, exact):
    assert by_unit(unit, value) == compact and exact_by_unit(unit, value) == exact
