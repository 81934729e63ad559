"""What an import says to a person: row errors grouped by cause, and the notes of a plan or report.

A file with one unmapped stage on 355 rows has one problem, not 355: errors with the same file, column,
reason and fix are one group, told once with its row count, its first rows and the option that fixes it.
The command line and the Import page both speak through here, so they say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from ..formatting import money_exact
from .csvfile import row_list
from .model import RowError

SHOWN_VALUES = 3
GROUP_NAMES = {"region": ("region", "regions"), "segment": ("segment", "segments"), "sales_channel": ("sales channel", "sales channels")}


@dataclass(frozen=True)
class ErrorGroup:
    """Row errors with one cause: where, why, how to fix it, and which rows and values."""

    file: str
    column: str
    why: str
    fix: str
    rows: tuple[int, ...]
    values: tuple[str, ...]  # distinct values, in row order

    def line(self) -> str:
        """One line: "file, column: why (355 rows: 2, 5, 9, …) — fix: --stage ...", or the row and value for one row."""
        fix = f" — fix: {self.fix}" if self.fix else ""
        if len(self.rows) == 1:
            return f"{self.file}, row {self.rows[0]}, {self.column or '-'} = {self.values[0]!r}: {self.why}{fix}"
        return (
            f"{self.file}, {self.column or '-'}: {self.why} ({len(self.rows):,} rows: {row_list(self.rows)}{self._values()}){fix}"
        )

    def _values(self) -> str:
        if len(self.values) == 1:
            return f"; value {self.values[0]!r}" if self.values[0] and self.values[0] not in self.why else ""
        shown = ", ".join(repr(v) for v in self.values[:SHOWN_VALUES])
        return f"; values {shown}{', …' if len(self.values) > SHOWN_VALUES else ''}"


def group_errors(errors: Iterable[RowError]) -> list[ErrorGroup]:
    """The errors grouped by (file, column, why, fix), in the order of each group's first row."""
    groups: dict[tuple[str, str, str, str], tuple[list[int], dict[str, None]]] = {}
    for e in sorted(errors, key=lambda e: (e.file, e.row)):
        rows, values = groups.setdefault((e.file, e.column, e.why, e.fix), ([], {}))
        rows.append(e.row)
        values.setdefault(e.value)
    return [
        ErrorGroup(file, column, why, fix, tuple(rows), tuple(values))
        for (file, column, why, fix), (rows, values) in groups.items()
    ]


def error_count(errors: list[RowError]) -> str:
    """ "2 rows (3 errors)": rows and errors counted apart, since one row may have several."""
    rows = len({(e.file, e.row) for e in errors})
    return f"{rows:,} row{'s' if rows != 1 else ''} ({len(errors):,} error{'s' if len(errors) != 1 else ''})"


def errors_frame(errors: Iterable[RowError]) -> pd.DataFrame:
    """Every error, one per row and column, for a table or a CSV file."""
    return pd.DataFrame([e.__dict__ for e in errors], columns=["file", "row", "column", "value", "why", "fix"])


def undated_note(undated: tuple[int, float]) -> str:
    """SPEC: open deals without a close date are in no period; an import says so rather than lose them quietly."""
    count, amount = undated
    if not count:
        return ""
    deals = "open deal has" if count == 1 else "open deals have"
    return (
        f"{count:,} {deals} no close date ({money_exact(amount)}): they are in no period, so period KPIs leave "
        'them out; pipeline views show them as "no close date".'
    )


def new_groups(groups: Mapping[str, Iterable[str]]) -> list[str]:
    """ "2 new regions: EMEA, APAC" per kind of group the import creates."""
    lines = []
    for table, names in groups.items():
        names = list(names)
        if names:
            one, many = GROUP_NAMES.get(table, (table, table + "s"))
            lines.append(f"{len(names):,} new {one if len(names) == 1 else many}: {', '.join(names)}")
    return lines
