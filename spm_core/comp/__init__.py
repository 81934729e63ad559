"""Incentive compensation: plans as data, crediting, and a commission engine whose every payout line
carries its trace (SPEC.md, "Compensation").

    plans.py      the plan model, YAML in/out, checks       store.py     saving/loading plan versions
    periods.py    2026-Q3 / 2026-07 / 2026                   crediting.py who is credited with what
    lines.py      a line's shape and SPEC's order of rules   engine.py    a period's run, stage by stage
    rates.py      step 1: marginal/retroactive bands         rules.py     gates, qualifiers, caps
    extras.py     bonuses, manager overrides                 spiffs.py    SPIFFs
    draws.py      draws and guarantees                       clawbacks.py reverted or cut deals taken back
    trace.py      reading lines (scoped) with their arithmetic
    preview.py    a draft plan's payout, rolled back         cli.py, bench.py  the command line
    cycle.py      period states and approvals                adjustments.py  prior-period, manual lines
    audit.py      who changed what, when (scoped reads)      disputes.py  inquiries on a line
    statements.py a person's statement                       estimator.py  what-if: the engine, rolled back
    payroll.py    the payroll export                         statement_files.py  statement CSV and PDF

Importing this package registers its tables on the warehouse schema (schema.py).
"""

from . import schema as schema
