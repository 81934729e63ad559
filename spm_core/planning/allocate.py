"""Top-down allocation: the target split down the manager tree, level by level, by each level's rule.

Pure (tree and measures in, rows out) so every method can be checked against a hand-worked example.
Each row carries its trace: the method, the weight and the sum of weights it was split by, the floor
and the leftover cent (cents.split_cents), or the override and its reason.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from .cents import Share, split_cents
from .model import EVEN, WEIGHTED, LevelRule, Override, PlanError, PlanRules

COLUMNS = ["person_id", "parent_id", "depth", "cents", "method", "weight", "weight_sum", "locked", "reason", "rule"]


@dataclass(frozen=True)
class Tree:
    """The planning tree: the root and, per node, its children (sorted by id). Leaves are reps."""

    root: int
    children: Mapping[int, tuple[int, ...]]
    names: Mapping[int, str]

    def nodes(self) -> list[tuple[int, int | None, int]]:
        """(id, parent, depth) of every node, breadth first."""
        out, level, depth = [(self.root, None, 0)], [self.root], 0
        while level:
            depth += 1
            nxt = []
            for parent in level:
                for child in self.children.get(parent, ()):
                    out.append((child, parent, depth))
                    nxt.append(child)
            level = nxt
        return out


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def _weights(rule: LevelRule, kids: tuple[int, ...], measures: Mapping[str, Mapping[int, int]]) -> tuple[list[int], str]:
    """Integer weights for the unlocked children by the rule, and how they were chosen (for the trace)."""
    if rule.method == EVEN:
        return [1] * len(kids), "even"
    values = [max(0, int(measures.get(rule.measure, {}).get(k, 0))) for k in kids]
    if rule.method == WEIGHTED:
        if sum(values) == 0:
            return [1] * len(kids), f"even (no {rule.measure} in these subtrees)"
        return values, f"weighted by {rule.measure}"
    tiers = sorted(rule.tiers, key=lambda t: t.floor)
    tier_of = [next((t for t in reversed(tiers) if v >= round(t.floor * 100)), tiers[0]) for v in values]
    members = {t.name: sum(1 for x in tier_of if x.name == t.name) for t in tiers}
    present = [t for t in tiers if members[t.name] and t.share > 0]
    if not present:
        return [1] * len(kids), "even (every child is in a tier without a share)"
    exact = [t.share / members[t.name] if t.share > 0 else Fraction(0) for t in tier_of]
    scale = math.lcm(*(f.denominator for f in exact))
    names = ", ".join(f"{t.name} {float(t.share):.0%}/{members[t.name]}" for t in present)
    return [int(f * scale) for f in exact], f"bucketing by {rule.measure} ({names})"


def allocate(tree: Tree, rules: PlanRules, measures: Mapping[str, Mapping[int, int]]) -> pd.DataFrame:
    """One row per node (COLUMNS): the root holds the target, every parent's children sum to it.

    measures: per measure name, each node's value in cents (a manager's is their subtree's sum)."""
    known = {node for node, _, _ in tree.nodes()}
    overrides = {o.person_id: o for o in rules.overrides}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise PlanError(f"Unknown person(s) for this plan's tree: {', '.join(map(str, unknown))}.")
    if tree.root in overrides:
        raise PlanError("The top of the tree holds the target: change the target instead of overriding it.")
    rows = [
        dict(zip(COLUMNS, [tree.root, None, 0, rules.target_cents, "target", 1, 1, True, "", "the plan's target"], strict=True))
    ]
    amount = {tree.root: rules.target_cents}
    queue = deque([(tree.root, 1)])
    while queue:
        parent, depth = queue.popleft()
        kids = tree.children.get(parent, ())
        if not kids:
            continue
        rows += _split(tree, parent, kids, amount[parent], rules.rule(depth), overrides, measures, depth)
        for row in rows[-len(kids) :]:
            amount[row["person_id"]] = row["cents"]
        queue.extend((k, depth + 1) for k in kids)
    return pd.DataFrame(rows, columns=COLUMNS)


def _split(
    tree: Tree,
    parent: int,
    kids: tuple[int, ...],
    total: int,
    rule: LevelRule,
    overrides: Mapping[int, Override],
    measures: Mapping[str, Mapping[int, int]],
    depth: int,
) -> list[dict]:
    """The rows of one parent's children: overrides as they are, the rest of `total` split by the rule."""
    locked = [k for k in kids if k in overrides]
    free = tuple(k for k in kids if k not in overrides)
    held = sum(overrides[k].cents for k in locked)
    name = tree.names.get(parent, str(parent))
    if held > total:
        raise PlanError(
            f"Children over the parent: the overrides under {name} add up to {_money(held)}, more than its {_money(total)}."
        )
    if not free and held != total:
        raise PlanError(f"Every child of {name} is overridden and they add up to {_money(held)}, not its {_money(total)}.")
    rows = [
        {
            "person_id": k,
            "parent_id": parent,
            "depth": depth,
            "cents": overrides[k].cents,
            "method": "override",
            "weight": 0,
            "weight_sum": 0,
            "locked": True,
            "reason": overrides[k].reason,
            "rule": f"override: {_money(overrides[k].cents)}",
        }
        for k in locked
    ]
    if free:
        weights, how = _weights(rule, free, measures)
        rest = total - held
        for share in split_cents(rest, free, weights):
            rows.append(_row(share, parent, depth, rule.method, how, rest, sum(weights)))
    order = {k: i for i, k in enumerate(kids)}
    return sorted(rows, key=lambda r: order[r["person_id"]])


def _row(share: Share, parent: int, depth: int, method: str, how: str, rest: int, whole: int) -> dict:
    extra = " + 0.01 (largest remainder)" if share.extra else ""
    rule = f"{how}: {_money(rest)} × {share.weight}/{whole} → {_money(share.floor)}{extra}"
    return {
        "person_id": share.id,
        "parent_id": parent,
        "depth": depth,
        "cents": share.cents,
        "method": method,
        "weight": share.weight,
        "weight_sum": whole,
        "locked": False,
        "reason": "",
        "rule": rule,
    }
