"""Reading payout lines, always through the viewer's scope, with the arithmetic of each as text.

The text is derived from the stored inputs of the line (never stored apart from them), so a reader
can redo every line by hand: "$4,000.00 of deal 17 in band 50–100 % (96.00 %→100.00 %) × 5 % = $200.00".
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period, Scope
from ..people import people_in_view
from ..schema import person
from .periods import period_label
from .plans import COUNT_MEASURES, MEASURE_LABELS, band_text
from .schema import comp_component, comp_line

LINE_ORDER = ("person_id", "step", "component_id", "close_date", "opportunity_id", "band_lower", "from_person_id")


def money_text(value: object) -> str:
    """$1,234.50; a value with more than cents (a band edge inside a cent) keeps its digits."""
    d = Decimal(str(value))
    sign = "−" if d < 0 else ""
    d = abs(d)
    exact = d.quantize(Decimal("0.01")) == d
    digits = f"{d:,.2f}" if exact else f"{d.normalize():,f}"
    return f"{sign}${digits}"


def _pct(value: object) -> str:
    return "∞" if value is None or pd.isna(value) else f"{Decimal(str(value)).normalize():f} %"


def rate_text(measure: object, rate: object) -> str:
    """A band's rate in words: a percent of money, or money per deal for a count measure (won_count)."""
    return f"{money_text(rate)} per deal" if measure in COUNT_MEASURES else _pct(rate)


def _att(value: object) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{float(value) * 100:.2f} %"


def _band(row: pd.Series) -> str:
    return band_text(row.band_lower, None if pd.isna(row.band_upper) else row.band_upper)


def _units(value: object) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01')).normalize():f}"


def _measure(row: pd.Series) -> tuple[str, bool]:
    """The line's measure as the plan names it (bookings when unknown) and whether it counts deals."""
    name = getattr(row, "measure", None)
    name = name if isinstance(name, str) else "won_amount"
    return MEASURE_LABELS.get(name, name), name in COUNT_MEASURES


def _extras(row: pd.Series) -> str:
    """A cap line's capped bonuses and SPIFFs (rules.py keeps them in `credited`)."""
    value = row.credited
    return "" if value is None or pd.isna(value) or value == 0 else f" (with capped bonuses/SPIFFs {money_text(value)})"


def formula(row: pd.Series) -> str:
    """The arithmetic of one line, with its numbers."""
    amount = money_text(row.amount)
    rule = row.rule
    label, counts = _measure(row)
    if rule in ("marginal", "retroactive"):
        base = f"{_units(row.base)} of deal {row.opportunity_id}" if counts else f"{money_text(row.base)} of deal {row.opportunity_id}"
        rate = f"{money_text(row.rate)} per deal" if counts else _pct(row.rate)
        moved = f"{_att(row.attainment_before)}→{_att(row.attainment_after)}"
        if rule == "marginal":
            return f"{label}: {base} in band {_band(row)} ({moved}) × {rate} = {amount}"
        return f"{label}: {base} ({moved}) × {rate}, the rate of band {_band(row)} the period reached = {amount}"
    if rule == "no_quota":
        credited = _units(row.credited) if counts else money_text(row.credited)
        return f"{label}: {credited} credited but no quota or target for the period: no attainment, no commission = {amount}"
    if rule == "gate":
        return f"attainment {_att(row.attainment_after)} < gate {_pct(row.threshold)}: commission {money_text(row.base)} withheld = {amount}"
    if rule == "qualifier":
        measured = "none" if pd.isna(row.measured) else f"{row.measured:.2f} %"
        return f"qualifier {measured} < {_pct(row.threshold)}: {money_text(row.base)} withheld = {amount}"
    if rule == "cap_deal":
        return f"deal {row.opportunity_id} earned {money_text(row.base)} > cap per deal {money_text(row.limit_amount)} = {amount}"
    if rule == "cap_period":
        return f"period commission{_extras(row)} {money_text(row.base)} > cap per period {money_text(row.limit_amount)} = {amount}"
    if rule == "cap_year":
        return (f"earlier this plan year {money_text(row.earlier)} + this period{_extras(row)} {money_text(row.base)} > cap per year "
                f"{money_text(row.limit_amount)} = {amount}")
    if rule == "bonus":
        so_far = "plan year so far over the year's quota: " if getattr(row, "bonus_per", None) == "year" else ""
        return f"{so_far}attainment {_att(row.attainment_after)} ≥ {_pct(row.threshold)}: bonus {amount}"
    if rule == "spiff":
        dated = "created" if label == MEASURE_LABELS["created_amount"] else "closed"
        matched = f"{label}: deal {row.opportunity_id} {dated} {row.close_date} matches the SPIFF"
        if row.rate is not None and not pd.isna(row.rate):
            return f"{matched}: {money_text(row.base)} credited × {_pct(row.rate)} = {amount}"
        return f"{matched}: {money_text(row.limit_amount)} per deal × {_pct(row.measured)} credit = {amount}"
    if rule == "override":
        return f"{money_text(row.base)} credited to person {row.from_person_id} below × {_pct(row.rate)} = {amount}"
    if rule in ("draw", "guarantee"):
        owed = f"; owed back, balance {money_text(row.earlier)} → {money_text(row.earlier + row.amount)}" if rule == "draw" else "; not recovered"
        return f"earnings {money_text(row.base)} < draw {money_text(row.limit_amount)}: top-up {money_text(row.limit_amount)} − {money_text(row.base)} = {amount}{owed}"
    if rule == "draw_recovery":
        return (f"balance owed {money_text(row.earlier)}; earnings {money_text(row.base)} above draw {money_text(row.limit_amount)}: "
                f"recovered {amount} (balance → {money_text(row.earlier + row.amount)})")
    if rule == "clawback":
        return (f"deal {row.opportunity_id} (closed {row.close_date}) no longer won, reverted {row.measured:.0f} days after closing "
                f"(window {row.threshold:.0f}): its {money_text(row.base)} is taken back = {amount}")
    if rule == "clawback_cut":
        cut = Decimal(str(row.earlier)) - Decimal(str(row.credited))
        return (f"deal {row.opportunity_id} (closed {row.close_date}) still won but its credit was cut {row.measured:.0f} days after "
                f"closing (window {row.threshold:.0f}): {money_text(row.earlier)} → {money_text(row.credited)}; paid "
                f"{money_text(row.base)} × {money_text(cut)} / {money_text(row.earlier)} taken back = {amount}")
    if rule == "prior_period":
        origin = "a new line" if pd.isna(row.origin_line_id) else f"line {int(row.origin_line_id)}"
        deal = "" if pd.isna(row.opportunity_id) else f", deal {row.opportunity_id}"
        return (f"{_label(row.origin_start, row.origin_end)} {origin} ({row.origin_rule}{deal}) paid {money_text(row.earlier)}, "
                f"recalculated {money_text(row.base)}: difference = {amount}")
    if rule in ("manual", "dispute"):
        corrects = "" if pd.isna(row.origin_start) else f" (for {_label(row.origin_start, row.origin_end)})"
        of_line = "" if pd.isna(row.origin_line_id) else f" on line {int(row.origin_line_id)}"
        kind = "adjustment" if rule == "manual" else "dispute resolved"
        return f"{kind}{of_line}{corrects}: {row.reason} = {amount}"
    raise ValueError(f"unknown rule {rule!r}")


def _label(start: object, end: object) -> str:
    return period_label(Period(start, end))


def read_rows(bind: Engine | sa.Connection, stmt: sa.Select) -> pd.DataFrame:
    """Rows with money as Decimal (a DataFrame from the driver would turn DECIMAL into float)."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return read_rows(conn, stmt)
    result = bind.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)


def lines(bind: Engine | sa.Connection, period: Period, scope: Scope, person_id: int | None = None) -> pd.DataFrame:
    """The period's lines the viewer may see (one person's with person_id), each with its formula; on a
    connection, inside its transaction (the estimator reads its rolled-back run)."""
    c = comp_line.c
    stmt = (
        sa.select(comp_line, person.c.name.label("person"), comp_component.c.measure, comp_component.c.bonus_per)
        .join_from(comp_line, person, person.c.id == c.person_id, isouter=True)
        .outerjoin(comp_component, comp_component.c.id == c.component_id)
        .where(c.period_start == period.start, c.period_end == period.end)
        .order_by(*(c[name] for name in LINE_ORDER))
    )
    ids = people_in_view(None, scope)
    if ids is not None:
        stmt = stmt.where(c.person_id.in_(ids))
    if person_id is not None:
        stmt = stmt.where(c.person_id == person_id)
    frame = read_rows(bind, stmt)
    frame["formula"] = [formula(row) for row in frame.itertuples(index=False)] if len(frame) else pd.Series(dtype=str)
    return frame


def totals(engine: Engine, period: Period, scope: Scope) -> pd.DataFrame:
    """Per person in view: the sum of their lines (the statement total) and the number of lines."""
    c = comp_line.c
    stmt = (
        sa.select(c.person_id, person.c.name.label("person"), sa.func.sum(c.amount).label("total"), sa.func.count().label("lines"))
        .join_from(comp_line, person, person.c.id == c.person_id, isouter=True)
        .where(c.period_start == period.start, c.period_end == period.end)
        .group_by(c.person_id, person.c.name)
        .order_by(c.person_id)
    )
    ids = people_in_view(None, scope)
    return read_rows(engine, stmt if ids is None else stmt.where(c.person_id.in_(ids)))
