"""The demo sales organisation: regions, segments, a manager tree, territories, accounts, products."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import day_number, to_date

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
REGIONS = ("North America", "EMEA", "APAC", "LATAM")
COUNTRIES = {
    "North America": ("United States", "Canada"),
    "EMEA": ("United Kingdom", "Germany", "France", "Netherlands"),
    "APAC": ("Australia", "Japan", "Singapore"),
    "LATAM": ("Brazil", "Mexico"),
}
INDUSTRIES = ("Software", "Retail", "Healthcare", "Finance", "Manufacturing", "Education", "Media", "Logistics")
PRODUCTS = (  # name, family, list price
    ("Core Platform", "Platform", 12_000),
    ("Core Platform Plus", "Platform", 30_000),
    ("Enterprise Suite", "Platform", 90_000),
    ("Analytics", "Add-on", 8_000),
    ("Data Connectors", "Add-on", 4_000),
    ("Premium Support", "Services", 6_000),
    ("Implementation", "Services", 15_000),
)
FIRST = [
    "Ava",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Felix",
    "Grace",
    "Hugo",
    "Isla",
    "Jonas",
    "Kai",
    "Lena",
    "Mateo",
    "Nora",
    "Oscar",
    "Priya",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Aiden",
    "Bianca",
    "Caleb",
    "Dana",
    "Emil",
    "Fatima",
    "Gabe",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Lucia",
    "Marco",
    "Nadia",
    "Omar",
    "Paula",
    "Rafael",
    "Sofia",
    "Theo",
    "Uma",
    "Victor",
    "Wanda",
    "Yara",
    "Zane",
]
LAST = [
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kim",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Varga",
    "Walsh",
    "Xu",
    "Young",
    "Zimmer",
    "Alvarez",
    "Brooks",
    "Costa",
    "Dubois",
    "Ekstrom",
    "Fernandes",
    "Gupta",
    "Haddad",
    "Ivanova",
    "Jones",
    "Kowalski",
    "Larsen",
    "Mendes",
    "Nakamura",
    "Olsen",
    "Petrov",
    "Reyes",
    "Schmidt",
    "Torres",
    "Urban",
    "Vogel",
    "Weber",
]
ACCOUNT_WORDS = [
    "Acme",
    "Apex",
    "Blue",
    "Bright",
    "Cedar",
    "Cobalt",
    "Crest",
    "Delta",
    "Echo",
    "Ember",
    "Falcon",
    "Globe",
    "Granite",
    "Harbor",
    "Helix",
    "Iron",
    "Jade",
    "Keystone",
    "Lumen",
    "Maple",
    "Nimbus",
    "Nova",
    "Oak",
    "Orbit",
    "Pine",
    "Pixel",
    "Quartz",
    "Rapid",
    "River",
    "Sage",
    "Sierra",
    "Solar",
    "Summit",
    "Terra",
    "Titan",
    "Union",
    "Vertex",
    "Vista",
    "Willow",
    "Zenith",
]
ACCOUNT_SUFFIX = ("Corp", "Inc", "Group", "Labs", "Systems", "Partners", "Holdings", "Co")


@dataclass(frozen=True)
class Org:
    """Everything about the organisation the deal generator needs, as frames and per-rep arrays."""

    regions: pd.DataFrame
    segments: pd.DataFrame
    teams: pd.DataFrame
    people: pd.DataFrame
    territories: pd.DataFrame
    accounts: pd.DataFrame
    products: pd.DataFrame
    rep_ids: np.ndarray  # person id of each rep, indexed by rep number
    rep_segment: np.ndarray  # 0..2
    rep_skill: np.ndarray  # ~1.0, higher wins more
    rep_hire_day: np.ndarray
    rep_ramp_months: np.ndarray
    account_owner_rep: np.ndarray  # rep number owning each account (accounts sorted by it)


def person_names(count: int) -> list[str]:
    """Unique, deterministic names; a middle initial once first x last combinations run out."""
    names = []
    combos = len(FIRST) * len(LAST)
    for i in range(count):
        first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST) + i) % len(LAST)]
        lap = i // combos
        names.append(f"{first} {chr(65 + lap % 26)}. {last}" if lap else f"{first} {last}")
    return names


def build_org(rng: np.random.Generator, n_reps: int, n_accounts: int, start_day: int, today: int) -> Org:
    n_teams = max(2, -(-n_reps // 8))
    team_segment = np.arange(n_teams) % len(SEGMENTS)
    team_region = (np.arange(n_teams) // len(SEGMENTS)) % len(REGIONS)
    combos = sorted(set(zip(team_segment.tolist(), team_region.tolist(), strict=True)))
    vp_segments = sorted({s for s, _ in combos})

    # ids: 1 admin, 2 leader, then VPs, directors, managers, reps
    vp_id = {s: 3 + i for i, s in enumerate(vp_segments)}
    director_id = {c: 3 + len(vp_segments) + i for i, c in enumerate(combos)}
    first_manager = 3 + len(vp_segments) + len(combos)
    manager_ids = first_manager + np.arange(n_teams)
    rep_ids = first_manager + n_teams + np.arange(n_reps)
    n_people = int(rep_ids[-1])
    names = person_names(n_people)

    rep_team = np.sort(np.arange(n_reps) % n_teams)  # teams of 7-8 reps
    long_ago = start_day - rng.integers(30, 1500, n_reps)
    in_window = start_day + rng.integers(0, max(1, today - start_day - 200), n_reps)
    recent = today - rng.integers(20, 150, n_reps)
    pick = rng.random(n_reps)
    rep_hire = np.where(pick < 0.12, in_window, long_ago)
    recent_hires = rng.choice(n_reps, size=max(1, n_reps // 20), replace=False)
    rep_hire[recent_hires] = recent[recent_hires]

    rows = [
        _person(1, names[0], "admin", None, None, None, None, start_day - 2000, 0),
        _person(2, names[1], "leader", None, None, None, None, start_day - 2000, 0),
    ]
    rows += [_person(vp_id[s], names[vp_id[s] - 1], "manager", 2, None, s, None, start_day - 1500, 0) for s in vp_segments]
    rows += [
        _person(director_id[c], names[director_id[c] - 1], "manager", vp_id[c[0]], None, c[0], c[1], start_day - 1000, 0)
        for c in combos
    ]
    for t in range(n_teams):
        combo = (int(team_segment[t]), int(team_region[t]))
        mid = int(manager_ids[t])
        rows.append(_person(mid, names[mid - 1], "manager", director_id[combo], t + 1, combo[0], combo[1], start_day - 700, 0))
    for r in range(n_reps):
        t = int(rep_team[r])
        rid = int(rep_ids[r])
        rows.append(
            _person(
                rid,
                names[rid - 1],
                "rep",
                int(manager_ids[t]),
                t + 1,
                int(team_segment[t]),
                int(team_region[t]),
                int(rep_hire[r]),
                3,
            )
        )
    people = pd.DataFrame(rows)

    combo_count: dict[tuple[int, int], int] = {}
    team_names = []
    for t in range(n_teams):
        c = (int(team_segment[t]), int(team_region[t]))
        combo_count[c] = combo_count.get(c, 0) + 1
        team_names.append(f"{REGIONS[c[1]]} {SEGMENTS[c[0]]} {combo_count[c]}")
    teams = pd.DataFrame(
        {
            "id": np.arange(1, n_teams + 1),
            "name": team_names,
            "manager_id": manager_ids,
            "segment_id": team_segment + 1,
            "region_id": team_region + 1,
        }
    )
    territories = pd.DataFrame(
        {
            "id": np.arange(1, len(combos) + 1),
            "name": [f"{REGIONS[r]} {SEGMENTS[s]}" for s, r in combos],
            "segment_id": [s + 1 for s, _ in combos],
            "region_id": [r + 1 for _, r in combos],
            "owner_id": [director_id[c] for c in combos],
        }
    )
    territory_of = {c: i + 1 for i, c in enumerate(combos)}

    rep_segment = team_segment[rep_team]
    rep_region = team_region[rep_team]
    owner = np.concatenate([np.arange(n_reps), rng.integers(0, n_reps, max(0, n_accounts - n_reps))])[:n_accounts]
    owner.sort()
    seg, reg = rep_segment[owner], rep_region[owner]
    revenue_scale = np.array([5e6, 80e6, 2e9])[seg]
    accounts = pd.DataFrame(
        {
            "id": np.arange(1, n_accounts + 1),
            "name": [
                f"{ACCOUNT_WORDS[i % len(ACCOUNT_WORDS)]} {ACCOUNT_WORDS[(i * 7 // len(ACCOUNT_WORDS) + 3) % len(ACCOUNT_WORDS)]} "
                f"{ACCOUNT_SUFFIX[(i // len(ACCOUNT_WORDS)) % len(ACCOUNT_SUFFIX)]}"
                + (
                    f" {i // (len(ACCOUNT_WORDS) * len(ACCOUNT_SUFFIX)) + 1}"
                    if i >= len(ACCOUNT_WORDS) * len(ACCOUNT_SUFFIX)
                    else ""
                )
                for i in range(n_accounts)
            ],
            "segment_id": seg + 1,
            "industry": np.array(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), n_accounts)],
            "region_id": reg + 1,
            "country": [COUNTRIES[REGIONS[r]][i % len(COUNTRIES[REGIONS[r]])] for i, r in enumerate(reg)],
            "territory_id": [territory_of[(int(s), int(r))] for s, r in zip(seg, reg, strict=True)],
            "owner_id": rep_ids[owner],
            "annual_revenue": np.round(revenue_scale * rng.lognormal(0, 0.6, n_accounts), -3),
            "employees": np.maximum(5, (revenue_scale / 2e5 * rng.lognormal(0, 0.5, n_accounts))).astype(np.int64),
        }
    )
    products = pd.DataFrame(
        {
            "id": np.arange(1, len(PRODUCTS) + 1),
            "name": [p[0] for p in PRODUCTS],
            "family": [p[1] for p in PRODUCTS],
            "list_price": [float(p[2]) for p in PRODUCTS],
        }
    )
    return Org(
        regions=pd.DataFrame({"id": np.arange(1, len(REGIONS) + 1), "name": REGIONS}),
        segments=pd.DataFrame({"id": np.arange(1, len(SEGMENTS) + 1), "name": SEGMENTS}),
        teams=teams,
        people=people,
        territories=territories,
        accounts=accounts,
        products=products,
        rep_ids=rep_ids,
        rep_segment=rep_segment,
        rep_skill=np.clip(rng.lognormal(0, 0.35, n_reps), 0.35, 2.5),
        rep_hire_day=rep_hire,
        rep_ramp_months=np.full(n_reps, 3),
        account_owner_rep=owner,
    )


def _person(pid, name, role, manager, team, seg, reg, hire_day, ramp) -> dict:
    return {
        "id": pid,
        "name": name,
        "email": name.lower().replace(". ", "").replace(" ", ".") + "@example.com",
        "role": role,
        "manager_id": manager,
        "team_id": team,
        "segment_id": None if seg is None else seg + 1,
        "region_id": None if reg is None else reg + 1,
        "hire_date": to_date(hire_day),
        "active": True,
        "ramp_months": ramp,
    }


__all__ = ["Org", "build_org", "SEGMENTS", "REGIONS", "PRODUCTS", "day_number"]
