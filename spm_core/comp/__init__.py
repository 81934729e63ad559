"""Incentive compensation: plans as data, crediting, and a commission engine whose every payout line
carries its trace (SPEC.md, "Compensation").

    plans.py     the plan model, YAML in/out, checks      store.py   saving/loading plan versions
    crediting.py who is credited with what               rates.py   step 1, marginal/retroactive bands
    rules.py     gates, qualifiers, caps                 extras.py  bonuses, manager overrides
    engine.py    a period's run, stage by stage          trace.py   reading lines (scoped) with their arithmetic

Importing this package registers its tables on the warehouse schema (schema.py).
"""

from . import schema as schema
