"""Plans as data: frozen dataclasses, YAML in and out, and the checks a plan must pass to be saved.

A YAML document is one version of one plan (so a team can keep plans in git and diff versions).
Percentages are written as percents (`rate: 8` is 8 %) and read as Decimal, so what the engine
multiplies is exactly what the author wrote.

Measures (what a commission or SPIFF pays on), as ICM tools name them:
- won_amount (default): bookings, the credited amount of won deals, dated by close date;
- created_amount: pipeline generated, the credited amount of every deal created in the period whatever
  its stage, dated by created date (an SDR plan);
- won_count: units, the credited share of each won deal (1, or 0.6 for a 60 % split), dated by close
  date; its bands pay `amount` per unit instead of a `rate`.
Attainment is the measure over the component's target: the person's quota (money, summed over the
period's months) unless the component gives `target` (per month, in the measure's unit: money or
deals), which a count measure must, since a money quota says nothing about how many deals to win.
A component's `deals` (product, segment, type, min_amount) restricts it to matching deals, so
"new-business bookings" is a commission of its own with its own target. The checks here need no warehouse; store.py adds the ones
that do (people exist, one plan per person at a time, versions of a plan do not overlap).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import yaml

from ..kpis import CATALOGUE
from ..model import MEASURES

KINDS = ("commission", "bonus", "spiff", "override", "draw")
# A bonus is measured on the period calculated, or on the plan year to date against the whole year's quota
# (an annual bonus, paid once, in the first period of the plan year that reaches its level).
BONUS_PERIODS = ("period", "year")
MODES = ("marginal", "retroactive")
# What a commission or SPIFF pays on (see the module docstring). Other SPEC measures are known by name but
# refused with a message, never silently paid as bookings. Bonuses, overrides and draws work on bookings.
PAYABLE_MEASURES = ("won_amount", "created_amount", "won_count")
COUNT_MEASURES = ("won_count",)
WON_MEASURES = ("won_amount", "won_count")  # a clawback takes back what a won deal paid
MEASURE_LABELS = {"won_amount": "bookings", "created_amount": "pipeline created", "won_count": "won deals"}
MAX_PER_UNIT = Decimal("99999.9999")  # a band's per-unit amount shares the rate column (DECIMAL(9, 4))
QUALIFIER_KPIS = tuple(name for name, k in CATALOGUE.items() if k.unit == "percent" and not k.reps_share)


class PlanError(ValueError):
    """A plan that cannot be read or saved; `problems` lists every reason, each one line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Band:
    """[lower, upper) in percent of the target, paying `rate` percent of the measure (or, for a count
    measure, `rate` money per unit: written `amount` in YAML); upper None is the open top band."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal


@dataclass(frozen=True)
class Qualifier:
    """Pay the component only if this KPI (in percent, e.g. win_rate) is at least `at_least`."""

    kpi: str
    at_least: Decimal


@dataclass(frozen=True)
class DealCriteria:
    """Which deals a SPIFF or commission pays on; a criterion left out matches every deal."""

    product: str | None = None  # the product's name
    segment: str | None = None  # the account's segment name
    type: str | None = None  # the opportunity type (New Business, Expansion, Renewal)
    min_amount: Decimal | None = None  # the deal's amount at least this


@dataclass(frozen=True)
class Component:
    name: str
    kind: str
    measure: str = "won_amount"
    mode: str | None = None  # commission: marginal | retroactive
    bands: tuple[Band, ...] = ()
    gate: Decimal | None = None  # commission: no payout below this attainment (percent)
    qualifier: Qualifier | None = None
    cap_deal: Decimal | None = None
    cap_period: Decimal | None = None
    cap_year: Decimal | None = None
    bonus_at: Decimal | None = None  # bonus: paid when attainment reaches this (percent)
    amount: Decimal | None = None  # bonus: paid at its level; spiff: paid per matching deal (× the person's credit share)
    rate: Decimal | None = None  # override: percent of the subtree's credited bookings; spiff: percent of the credit
    clawback_days: int | None = None  # commission: a paid deal reverted within this many days of its close is taken back
    draw_monthly: Decimal | None = None  # draw: the monthly amount earnings are topped up to
    recoverable: bool = True  # draw: the top-up is owed back from later earnings (False: a guarantee)
    window_from: date | None = None  # spiff: deals closed in [window_from, window_to] count
    window_to: date | None = None
    deals: DealCriteria | None = None  # spiff, commission: only matching deals count
    target: Decimal | None = None  # commission: per month, in the measure's unit, instead of the person's quota
    capped: bool = False  # bonus, spiff: counted inside the plan's commission caps per period and per year
    per: str = "period"  # bonus: "period" (attainment of the period calculated) or "year" (of the plan year so far, paid once)


@dataclass(frozen=True)
class Assignment:
    """The plan version applies to the person from start to end (both included; None: open-ended)."""

    person_id: int
    start: date
    end: date | None = None


@dataclass(frozen=True)
class Plan:
    name: str
    version: int
    effective_from: date
    effective_to: date | None = None
    description: str = ""
    year_start_month: int = 1  # the plan year (year cap, year to date) starts on the 1st of this month
    components: tuple[Component, ...] = ()
    assignments: tuple[Assignment, ...] = field(default_factory=tuple)


# ---- reading -------------------------------------------------------------------------------------


class _Reader:
    """Collects every problem of a document instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def mapping(self, value: object, where: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(value, dict):
            self.problems.append(f"{where}: expected a mapping (key: value), got {type(value).__name__}")
            return {}
        for key in sorted(set(map(str, value)) - allowed):
            self.problems.append(f"{where}: unknown key {key!r}; allowed: {', '.join(sorted(allowed))}")
        for key in sorted(required - set(value)):
            self.problems.append(f"{where}: {key!r} is required")
        return value

    def decimal(self, value: object, where: str) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            self.problems.append(f"{where}: {value!r} is not a number")
            return None
        try:
            number = Decimal(str(value).replace(",", "").replace("_", ""))
        except InvalidOperation:
            self.problems.append(f"{where}: {value!r} is not a number")
            return None
        if not number.is_finite():
            self.problems.append(f"{where}: {value!r} is not a finite number")
            return None
        return number

    def day(self, value: object, where: str) -> date | None:
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.problems.append(f"{where}: {value!r} is not a date (YYYY-MM-DD)")
            return None

    def boolean(self, value: object, where: str) -> bool:
        if not isinstance(value, bool):
            self.problems.append(f"{where}: {value!r} is not true or false")
            return True
        return value

    def integer(self, value: object, where: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(f"{where}: {value!r} is not a whole number")
            return None
        return value


_COMPONENT_KEYS = {
    "name", "kind", "measure", "mode", "bands", "gate", "qualifier", "caps", "at", "amount", "rate", "clawback_days", "monthly",
    "recoverable", "from", "to", "deals", "target", "capped", "per",
}


def _component(r: _Reader, raw: object, where: str) -> Component | None:
    c = r.mapping(raw, where, _COMPONENT_KEYS, {"name", "kind"})
    if not c:
        return None
    where = f"component {c.get('name', '?')!r}"
    measure = str(c.get("measure", "won_amount"))
    pay = "amount" if measure in COUNT_MEASURES else "rate"  # a count measure's band pays money per unit
    bands = []
    for i, b in enumerate(c.get("bands") or [], 1):
        bm = r.mapping(b, f"{where}, band {i}", {"from", "to", pay}, {"from", pay})
        if bm:
            bands.append(
                Band(r.decimal(bm.get("from"), f"{where}, band {i}, from"), r.decimal(bm.get("to"), f"{where}, band {i}, to"),
                     r.decimal(bm.get(pay), f"{where}, band {i}, {pay}"))
            )
    qualifier = None
    if c.get("qualifier") is not None:
        q = r.mapping(c["qualifier"], f"{where}, qualifier", {"kpi", "at_least"}, {"kpi", "at_least"})
        if q:
            qualifier = Qualifier(str(q.get("kpi")), r.decimal(q.get("at_least"), f"{where}, qualifier, at_least"))
    caps = r.mapping(c.get("caps") or {}, f"{where}, caps", {"deal", "period", "year"})
    deals = None
    if c.get("deals") is not None:
        d = r.mapping(c["deals"], f"{where}, deals", {"product", "segment", "type", "min_amount"})
        deals = DealCriteria(
            *(None if d.get(k) is None else str(d[k]) for k in ("product", "segment", "type")),
            r.decimal(d.get("min_amount"), f"{where}, deals, min_amount"),
        )
    return Component(
        name=str(c.get("name", "")),
        kind=str(c.get("kind", "")),
        measure=measure,
        mode=(c.get("mode", "marginal") if c.get("kind") == "commission" else c.get("mode")),
        bands=tuple(bands),
        gate=r.decimal(c.get("gate"), f"{where}, gate"),
        qualifier=qualifier,
        cap_deal=r.decimal(caps.get("deal"), f"{where}, caps, deal"),
        cap_period=r.decimal(caps.get("period"), f"{where}, caps, period"),
        cap_year=r.decimal(caps.get("year"), f"{where}, caps, year"),
        bonus_at=r.decimal(c.get("at"), f"{where}, at"),
        amount=r.decimal(c.get("amount"), f"{where}, amount"),
        rate=r.decimal(c.get("rate"), f"{where}, rate"),
        clawback_days=None if c.get("clawback_days") is None else r.integer(c["clawback_days"], f"{where}, clawback_days"),
        draw_monthly=r.decimal(c.get("monthly"), f"{where}, monthly"),
        recoverable=r.boolean(c.get("recoverable", True), f"{where}, recoverable"),
        window_from=r.day(c.get("from"), f"{where}, from"),
        window_to=r.day(c.get("to"), f"{where}, to"),
        deals=deals,
        target=r.decimal(c.get("target"), f"{where}, target"),
        capped=r.boolean(c.get("capped", False), f"{where}, capped"),
        per=str(c.get("per", "period")),
    )


def plan_from_yaml(text: str) -> Plan:
    """Read and check one plan version; PlanError lists every problem found."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PlanError([f"not valid YAML{at}: {getattr(exc, 'problem', None) or exc}"]) from None
    r = _Reader()
    doc = r.mapping(
        raw,
        "plan",
        {"name", "version", "effective_from", "effective_to", "description", "year_start_month", "components", "assignments"},
        {"name", "version", "effective_from", "components"},
    )
    if not doc:
        raise PlanError(r.problems)
    components = doc.get("components")
    if not isinstance(components, list):
        r.problems.append("plan: 'components' must be a list")
        components = []
    assignments = []
    for i, a in enumerate(doc.get("assignments") or [], 1):
        am = r.mapping(a, f"assignment {i}", {"person", "from", "to"}, {"person", "from"})
        if am:
            assignments.append(
                Assignment(r.integer(am.get("person"), f"assignment {i}, person"), r.day(am.get("from"), f"assignment {i}, from"),
                           r.day(am.get("to"), f"assignment {i}, to"))
            )
    plan = Plan(
        name=str(doc.get("name", "")).strip(),
        version=r.integer(doc.get("version"), "plan, version"),
        effective_from=r.day(doc.get("effective_from"), "plan, effective_from"),
        effective_to=r.day(doc.get("effective_to"), "plan, effective_to"),
        description=str(doc.get("description") or ""),
        year_start_month=r.integer(doc.get("year_start_month", 1), "plan, year_start_month"),
        components=tuple(c for i, raw_c in enumerate(components, 1) if (c := _component(r, raw_c, f"component {i}"))),
        assignments=tuple(assignments),
    )
    problems = r.problems or validate(plan)
    if problems:
        raise PlanError(problems)
    return plan


# ---- checking ------------------------------------------------------------------------------------


def _pct(value: Decimal | None) -> str:
    return "∞" if value is None else f"{value.normalize():f} %"


def band_text(lower: Decimal, upper: Decimal | None) -> str:
    """50–100 %, or 150 %+ for the open top band."""
    low = f"{Decimal(lower).normalize():f}"
    return f"{low} %+" if upper is None else f"{low}–{Decimal(upper).normalize():f} %"


def _band_problems(c: Component) -> list[str]:
    where = f"component {c.name!r}"
    if not c.bands:
        return [f"{where}: a commission needs at least one rate band"]
    problems = []
    bands = sorted(c.bands, key=lambda b: b.lower)
    if bands[0].lower != 0:
        problems.append(f"{where}: the bands must start at 0 %, the lowest starts at {_pct(bands[0].lower)}")
    for b in bands:
        name = f"{where}, band {band_text(b.lower, b.upper)}"
        if c.measure in COUNT_MEASURES and not 0 <= b.rate <= MAX_PER_UNIT:
            problems.append(f"{name}: the amount per unit {b.rate.normalize():f} must be between 0 and {MAX_PER_UNIT.normalize():f}")
        elif b.rate < 0:
            problems.append(f"{name}: the rate {_pct(b.rate)} is negative")
        if b.upper is not None and b.upper <= b.lower:
            problems.append(f"{name}: it must end above where it starts")
    for low, high in zip(bands, bands[1:], strict=False):
        if low.upper is None:
            problems.append(f"{where}: only the top band may be open-ended, but {band_text(low.lower, None)} is followed by {_pct(high.lower)}")
        elif low.upper < high.lower:
            problems.append(f"{where}: a gap between {_pct(low.upper)} and {_pct(high.lower)} (no band covers it)")
        elif low.upper > high.lower:
            problems.append(f"{where}: bands {band_text(low.lower, low.upper)} and {band_text(high.lower, high.upper)} overlap")
    return problems


def _component_problems(c: Component) -> list[str]:
    where = f"component {c.name!r}"
    if not c.name:
        return ["a component needs a name"]
    if c.kind not in KINDS:
        return [f"{where}: unknown kind {c.kind!r}; expected one of {', '.join(KINDS)}"]
    problems = []
    if c.measure not in MEASURES:
        problems.append(f"{where}: unknown measure {c.measure!r}; known measures: {', '.join(MEASURES)}")
    elif c.kind in ("commission", "spiff") and c.measure not in PAYABLE_MEASURES:
        problems.append(f"{where}: the engine pays only on {', '.join(PAYABLE_MEASURES)}, not {c.measure!r}")
    elif c.kind not in ("commission", "spiff") and c.measure != "won_amount":
        problems.append(f"{where}: a {c.kind} works on bookings (won_amount), not {c.measure!r}")
    problems += _measure_problems(c, where)
    for label, value in (("gate", c.gate), ("cap per deal", c.cap_deal), ("cap per period", c.cap_period),
                         ("cap per year", c.cap_year), ("bonus level", c.bonus_at), ("bonus amount", c.amount),
                         ("override rate", c.rate), ("monthly draw", c.draw_monthly),
                         ("clawback window", c.clawback_days)):
        if value is not None and value < 0:
            problems.append(f"{where}: the {label} {Decimal(value).normalize():f} is negative")
    if c.kind == "commission":
        if c.mode not in MODES:
            problems.append(f"{where}: unknown mode {c.mode!r}; expected one of {', '.join(MODES)}")
        problems += _band_problems(c)
        if c.qualifier is not None and c.qualifier.kpi not in QUALIFIER_KPIS:
            problems.append(f"{where}: the qualifier KPI must be a percentage KPI ({', '.join(QUALIFIER_KPIS)}), not {c.qualifier.kpi!r}")
    elif c.bands or c.gate is not None or c.qualifier or c.clawback_days is not None or any(
        x is not None for x in (c.cap_deal, c.cap_period, c.cap_year)
    ):
        problems.append(f"{where}: bands, gate, qualifier, caps and clawback_days belong to commission components, not {c.kind}")
    if c.kind == "bonus" and (c.bonus_at is None or c.amount is None):
        problems.append(f"{where}: a bonus needs 'at' (attainment percent) and 'amount'")
    if c.kind == "override" and c.rate is None:
        problems.append(f"{where}: an override needs 'rate' (percent of the subtree's bookings)")
    if c.kind == "spiff":
        problems += _spiff_problems(c, where)
    elif c.window_from or c.window_to:
        problems.append(f"{where}: from and to belong to SPIFF components, not {c.kind}")
    if c.deals is not None and c.kind not in ("spiff", "commission"):
        problems.append(f"{where}: deals belong to SPIFF and commission components, not {c.kind}")
    elif c.deals is not None and c.deals.min_amount is not None and c.deals.min_amount < 0:
        problems.append(f"{where}: deals, min_amount {c.deals.min_amount.normalize():f} is negative")
    if c.per not in BONUS_PERIODS:
        problems.append(f"{where}: per {c.per!r} must be one of {', '.join(BONUS_PERIODS)}")
    elif c.per != "period" and c.kind != "bonus":
        problems.append(f"{where}: per belongs to bonus components, not {c.kind}")
    if c.capped and c.kind not in ("bonus", "spiff"):
        problems.append(f"{where}: capped is for bonuses and SPIFFs (a commission's own caps always apply), not {c.kind}")
    if c.kind == "draw" and c.draw_monthly is None:
        problems.append(f"{where}: a draw needs 'monthly' (the amount per month earnings are topped up to)")
    return problems


def _spiff_problems(c: Component, where: str) -> list[str]:
    problems = []
    if c.window_from is None or c.window_to is None:
        problems.append(f"{where}: a SPIFF needs 'from' and 'to' (the days its deals must close between)")
    elif c.window_to < c.window_from:
        problems.append(f"{where}: the SPIFF ends ({c.window_to}) before it starts ({c.window_from})")
    if (c.amount is None) == (c.rate is None):
        problems.append(f"{where}: a SPIFF pays either 'amount' (per deal) or 'rate' (percent of the credit), one of them")
    elif c.rate is not None and c.measure in COUNT_MEASURES:
        problems.append(f"{where}: a SPIFF on {c.measure} pays an 'amount' per deal, not a 'rate'")
    return problems


def _measure_problems(c: Component, where: str) -> list[str]:
    """A target is the commission's own goal per month; a count measure has no money quota to use instead."""
    problems = []
    if c.target is not None and c.kind != "commission":
        problems.append(f"{where}: target belongs to commission components, not {c.kind}")
    elif c.target is not None and c.target <= 0:
        problems.append(f"{where}: the target {c.target.normalize():f} must be above 0")
    elif c.kind == "commission" and c.target is None and c.measure in COUNT_MEASURES:
        problems.append(f"{where}: a commission on {c.measure} needs 'target' (deals per month): the quota is money, not a count")
    if c.clawback_days is not None and c.measure not in WON_MEASURES:
        problems.append(f"{where}: clawback_days takes back won deals; {c.measure} pays on deals that are not won")
    return problems


def _overlaps(spans: list[tuple[date, date | None]]) -> list[tuple[tuple[date, date | None], tuple[date, date | None]]]:
    ordered = sorted(spans, key=lambda s: s[0])
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if a[1] is None or a[1] >= b[0]]


def span_text(start: date, end: date | None) -> str:
    return f"{start}–{end or 'open'}"


def validate(plan: Plan) -> list[str]:
    """Every problem that makes the plan unusable, each as one sentence; empty when it is fine."""
    problems = []
    if not plan.name:
        problems.append("plan: a name is required")
    if plan.version is not None and plan.version < 1:
        problems.append(f"plan: version {plan.version} must be at least 1")
    if plan.effective_to is not None and plan.effective_from is not None and plan.effective_to < plan.effective_from:
        problems.append(f"plan: effective_to {plan.effective_to} is before effective_from {plan.effective_from}")
    if not plan.components:
        problems.append("plan: at least one component is required")
    if sum(c.kind == "draw" for c in plan.components) > 1:
        problems.append("plan: at most one draw per plan (a person's earnings are topped up once)")
    if plan.year_start_month is not None and not 1 <= plan.year_start_month <= 12:
        problems.append(f"plan: year_start_month {plan.year_start_month} must be a month from 1 to 12")
    capped = [c.name for c in plan.components if c.capped]
    with_caps = [c.name for c in plan.components if c.kind == "commission" and (c.cap_period is not None or c.cap_year is not None)]
    if capped and len(with_caps) != 1:
        problems.append(f"plan: {', '.join(map(repr, capped))} capped: true needs exactly one commission with a cap per period or "
                        f"per year to count inside; this plan has {len(with_caps)}")
    names = [c.name for c in plan.components]
    problems += [f"component {n!r} appears more than once" for n in sorted({n for n in names if names.count(n) > 1})]
    for c in plan.components:
        problems += _component_problems(c)
    by_person: dict[int, list[tuple[date, date | None]]] = {}
    for a in plan.assignments:
        where = f"assignment of person {a.person_id}"
        if a.end is not None and a.end < a.start:
            problems.append(f"{where}: it ends ({a.end}) before it starts ({a.start})")
        if plan.effective_from and (a.start < plan.effective_from or (plan.effective_to and (a.end is None or a.end > plan.effective_to))):
            problems.append(f"{where} {span_text(a.start, a.end)} is outside the version's dates {span_text(plan.effective_from, plan.effective_to)}; give it 'from'/'to' within them")
        by_person.setdefault(a.person_id, []).append((a.start, a.end))
    for person_id, spans in sorted(by_person.items()):
        for a, b in _overlaps(spans):
            problems.append(f"person {person_id} is assigned twice at once: {span_text(*a)} overlaps {span_text(*b)}")
    return problems


# ---- writing -------------------------------------------------------------------------------------


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _deals_dict(d: DealCriteria | None) -> dict:
    if d is None:
        return {}
    out = {k: v for k, v in (("product", d.product), ("segment", d.segment), ("type", d.type)) if v is not None}
    return {"deals": out | ({"min_amount": _number(d.min_amount)} if d.min_amount is not None else {})}


def _component_dict(c: Component) -> dict:
    out: dict = {"name": c.name, "kind": c.kind, "measure": c.measure}
    pay = "amount" if c.measure in COUNT_MEASURES else "rate"
    if c.kind == "commission":
        out["mode"] = c.mode
        out["bands"] = [
            {"from": _number(b.lower), **({"to": _number(b.upper)} if b.upper is not None else {}), pay: _number(b.rate)}
            for b in c.bands
        ]
        if c.target is not None:
            out["target"] = _number(c.target)
        if c.gate is not None:
            out["gate"] = _number(c.gate)
        if c.qualifier is not None:
            out["qualifier"] = {"kpi": c.qualifier.kpi, "at_least": _number(c.qualifier.at_least)}
        caps = {k: _number(v) for k, v in (("deal", c.cap_deal), ("period", c.cap_period), ("year", c.cap_year)) if v is not None}
        if caps:
            out["caps"] = caps
        if c.clawback_days is not None:
            out["clawback_days"] = c.clawback_days
        out |= _deals_dict(c.deals)
    if c.kind == "bonus":
        out |= {"at": _number(c.bonus_at), "amount": _number(c.amount)} | ({"per": c.per} if c.per != "period" else {})
    if c.kind == "spiff":
        out |= {"from": c.window_from, "to": c.window_to} | _deals_dict(c.deals)
        out |= {"amount": _number(c.amount)} if c.amount is not None else {"rate": _number(c.rate)}
    if c.kind == "override":
        out["rate"] = _number(c.rate)
    if c.kind == "draw":
        out |= {"monthly": _number(c.draw_monthly), "recoverable": c.recoverable}
    if c.capped:
        out["capped"] = True
    return out


def plan_to_yaml(plan: Plan) -> str:
    """The YAML document plan_from_yaml reads back to an equal Plan."""
    doc: dict = {"name": plan.name, "version": plan.version, "effective_from": plan.effective_from}
    if plan.effective_to is not None:
        doc["effective_to"] = plan.effective_to
    if plan.description:
        doc["description"] = plan.description
    if plan.year_start_month != 1:
        doc["year_start_month"] = plan.year_start_month
    doc["components"] = [_component_dict(c) for c in plan.components]
    if plan.assignments:
        doc["assignments"] = [
            {"person": a.person_id, "from": a.start, **({"to": a.end} if a.end is not None else {})} for a in plan.assignments
        ]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)
