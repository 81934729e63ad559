"""The viewer's scope is never optional in spm_core (issue 8, item 12): a caller who forgets it must get
an error, not every deal. Checked over every module, so a new reading function cannot regress."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import date

import pytest

import spm_core
from spm_core import deals, history, leaderboard, metrics
from spm_core.filters import Filters, Period

QUARTER = Filters(Period.quarter(date(2026, 11, 23)))


def public_functions_with_a_scope() -> list[tuple[str, inspect.Signature]]:
    found = []
    for module_info in pkgutil.walk_packages(spm_core.__path__, "spm_core."):
        if module_info.name.endswith("__main__"):  # runs the command line when imported
            continue
        module = importlib.import_module(module_info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            signature = inspect.signature(function)
            if "scope" in signature.parameters:
                found.append((f"{module.__name__}.{name}", signature))
    return found


READERS = public_functions_with_a_scope()


def test_the_readers_named_in_the_issue_are_among_those_checked():
    names = {name for name, _ in READERS}
    assert {"spm_core.deals.deals", "spm_core.metrics.query", "spm_core.leaderboard.board"} <= names
    assert {f"spm_core.history.{n}" for n in ("pipeline_change", "stalled_deals", "forecast_accuracy")} <= names


@pytest.mark.parametrize(("name", "signature"), READERS, ids=[name for name, _ in READERS])
def test_every_public_function_taking_a_scope_requires_one(name, signature):
    scope = signature.parameters["scope"]
    assert scope.default is inspect.Parameter.empty, f"{name} has a default scope ({scope.default!r})"
    assert "None" not in str(scope.annotation), f"{name} accepts scope=None ({scope.annotation})"


@pytest.mark.parametrize(
    "call",
    [
        lambda e: metrics.query(e, ["bookings"], QUARTER, None),
        lambda e: deals.deals(e, "bookings", QUARTER, None),
        lambda e: leaderboard.board(e, "bookings", QUARTER, None, audience=leaderboard.Audience.full()),
        lambda e: history.overdue_deals(e, QUARTER, None),
    ],
    ids=["query", "deals", "board", "overdue_deals"],
)
def test_passing_none_for_the_scope_is_an_error_not_everyone(demo_engine, call):
    with pytest.raises(TypeError, match="Scope.everyone"):
        call(demo_engine)
