"""A statement as files: CSV (its lines with their trace) and PDF (summary, every line, the total as
the sum of the lines). Both go through exports.safe_frame; the PDF reuses the review PDF's document
(fonts, footer, tables)."""

from __future__ import annotations

import pandas as pd

from ..exports import safe_frame, to_csv_bytes
from ..reports.pdf import _Document, _heading, _small, _table
from .periods import period_label
from .statements import Attainment, Statement, amount_text
from .trace import money_text


def lines_frame(s: Statement) -> pd.DataFrame:
    """One row per line: what a person reads and checks."""
    frame = s.lines
    if frame.empty:
        return pd.DataFrame(columns=["line", "component", "rule", "deal", "close_date", "amount", "trace"])
    return pd.DataFrame({
        "line": frame["id"], "component": frame["component"], "rule": frame["rule"],
        "deal": [None if pd.isna(v) else int(v) for v in frame["opportunity_id"]], "close_date": frame["close_date"],
        "amount": frame["amount"], "trace": frame["formula"],
    })


def summary_rows(s: Statement) -> list[tuple[str, str]]:
    return [
        ("Person", s.person), ("Period", f"{period_label(s.period)} ({s.period.start} – {s.period.end})"),
        ("Period state", s.state), ("Approval", s.status or "not calculated"), ("Total", money_text(s.total)),
        ("of which adjustments", money_text(s.adjustments)), ("Year to date", money_text(s.ytd)),
        ("Draw balance owed", money_text(s.draw_balance)), ("Credited bookings", money_text(s.credited)),
        *(row for a in s.components for row in _gauge(a, len(s.components) > 1)),
    ]


def _gauge(a: Attainment, named: bool) -> list[tuple[str, str]]:
    """A commission's attainment and next band, on the measure it pays on (bookings need no unit word)."""
    tag = f" · {a.component}" if named else ""
    if a.percent is None:
        return [(f"Attainment{tag}", "n/a (no quota)")]
    of = "" if a.measure == "won_amount" else f" of {amount_text(a.measure, a.target)}"
    return [(f"Attainment{tag}", f"{a.percent} %{of}"),
            (f"Next band{tag}", a.next_band.text if a.next_band else "top band reached or no rate table")]


def statement_csv(s: Statement) -> bytes:
    return to_csv_bytes(lines_frame(s))


def statement_pdf(s: Statement) -> bytes:
    title = f"Commission statement · {s.person} · {period_label(s.period)}"
    pdf = _Document(title)
    pdf.add_page()
    _heading(pdf, title, 16)
    summary = safe_frame(pd.DataFrame(summary_rows(s), columns=["item", "value"]))
    _table(pdf, [["", ""], *([str(a), str(b)] for a, b in summary.itertuples(index=False))])
    _heading(pdf, "Lines", 12)
    frame = safe_frame(lines_frame(s))
    rows = [["Line", "Component", "Deal", "Amount", "Trace"]]
    rows += [[str(r.line), str(r.component), "" if r.deal is None or pd.isna(r.deal) else str(r.deal), money_text(r.amount), str(r.trace)]
             for r in frame.itertuples(index=False)]
    _table(pdf, rows)
    _small(pdf, f"Total {money_text(s.total)} = the sum of the {len(frame)} lines above.")
    return bytes(pdf.output())
