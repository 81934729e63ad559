"""spm_core.exports: downloads never carry a live spreadsheet formula (CSV/formula injection, OWASP)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from apptest_support import ROOT

from spm_core.exports import FORMULA_TRIGGERS, neutralise, safe_frame, to_csv_bytes

HYPERLINK = '=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_each_trigger_gets_a_leading_quote(trigger):
    assert set(FORMULA_TRIGGERS) == {"=", "+", "-", "@", "\t", "\r"}
    assert neutralise(f"{trigger}1+1") == f"'{trigger}1+1"


@pytest.mark.parametrize("text", [" =1+1", "  +cmd", "\n-2+3", "\u00a0@SUM(A1)", " \t=1"])
def test_a_formula_behind_leading_whitespace_is_neutralised_too(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["Acme - 200 licenses", "plain", "", "'=already quoted", "a=b", "1-2"])
def test_other_text_is_left_alone(text):
    assert neutralise(text) == text


@pytest.mark.parametrize("value", [None, np.nan, pd.NA, -5, -2.5, 0, True, pd.Timestamp("2026-11-23")])
def test_values_that_are_not_text_are_left_alone(value):
    assert neutralise(value) is value


def test_safe_frame_touches_text_cells_only_and_leaves_the_input_as_it_was():
    frame = pd.DataFrame(
        {
            "name": pd.Series([HYPERLINK, "Fine deal", None], dtype="str"),
            "mixed": pd.Series(["@evil", -3, None], dtype="object"),
            "amount": [-100.0, 2.5, np.nan],
            "count": [-1, 0, 1],
            "closed": [True, False, True],
            "close_date": pd.to_datetime(["2026-01-01", "2026-02-01", None]),
        }
    )
    before = frame.copy()
    safe = safe_frame(frame)
    pd.testing.assert_frame_equal(frame, before)  # a copy: the caller's frame is unchanged
    assert safe["name"].iloc[0] == "'" + HYPERLINK and safe["name"].iloc[1] == "Fine deal" and pd.isna(safe["name"].iloc[2])
    assert safe["mixed"].tolist()[:2] == ["'@evil", -3] and pd.isna(safe["mixed"].iloc[2])
    for numeric in ("amount", "count", "closed", "close_date"):
        pd.testing.assert_series_equal(safe[numeric], frame[numeric])


def test_header_cells_are_text_cells_too():
    assert list(safe_frame(pd.DataFrame({"=1+1": [1], "ok": [2]})).columns) == ["'=1+1", "ok"]


def test_csv_bytes_hold_no_live_formula_and_keep_negative_numbers():
    frame = pd.DataFrame({"name": [HYPERLINK, "-42", "Fine"], "amount": [-42.0, 1.0, 0.0]})
    data = to_csv_bytes(frame)
    back = pd.read_csv(io.BytesIO(data), dtype={"name": str})
    assert back["name"].tolist() == ["'" + HYPERLINK, "'-42", "Fine"]
    assert back["amount"].tolist() == [-42.0, 1.0, 0.0]  # numbers stay numbers
    for line in data.decode("utf-8").splitlines():
        assert not line.lstrip('"').startswith(tuple(FORMULA_TRIGGERS))


def test_every_download_button_of_the_app_goes_through_ui_downloads():
    """A new download written straight with st.download_button or to_csv would skip the neutralising."""
    for path in [ROOT / "app.py", *ROOT.glob("ui/**/*.py"), *ROOT.glob("pages/**/*.py")]:  # subpackages too
        if path != ROOT / "ui" / "downloads.py":
            text = path.read_text(encoding="utf-8")
            assert not any(call in text for call in ("download_button(", ".to_csv(", ".to_excel(")), path
