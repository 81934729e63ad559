"""ui/vega.py: a chart's Vega-Lite spec is validated the first time it is drawn and not again while it is
the same; a spec not seen before (other numbers) is validated, and an invalid one still fails."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pytest

from ui import vega


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every spec Altair validates while the test runs."""
    seen: list[dict] = []
    validate = alt.Chart.validate.__func__

    def counting(cls, instance, schema=None):
        seen.append(instance)
        return validate(cls, instance, schema)

    monkeypatch.setattr(alt.Chart, "validate", classmethod(counting))
    monkeypatch.setattr(vega, "_validated", set())
    return seen


def bars(values: list[float]) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"x": ["a", "b"], "y": values})).mark_bar().encode(x="x:N", y="y:Q")


def test_the_same_chart_is_validated_once(validations):
    first = vega._ValidatedOnce(bars([1.0, 2.0])).to_dict()
    again = vega._ValidatedOnce(bars([1.0, 2.0])).to_dict()  # a warm rerun builds the same chart anew
    assert again == first and first["mark"] == {"type": "bar"}
    assert len(validations) == 1


def test_other_numbers_are_validated_again(validations):
    vega._ValidatedOnce(bars([1.0, 2.0])).to_dict()
    vega._ValidatedOnce(bars([1.0, 3.0])).to_dict()
    assert len(validations) == 2


def test_an_invalid_chart_still_fails_every_time(validations):
    broken = alt.Chart(pd.DataFrame({"x": [1]})).mark_bar(opacity="very").encode(x="x:Q")  # opacity is a number
    for _ in range(2):
        with pytest.raises(alt.utils.schemapi.SchemaValidationError):
            vega._ValidatedOnce(broken).to_dict()
