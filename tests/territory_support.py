"""A hand-made market for territory tests: three territories, five accounts whose rule outcomes are worked
out by hand in the tests (East: US postcodes 10000-19999; West: California; Key: Large accounts)."""

from __future__ import annotations

TERRITORIES = [
    {"id": 1, "name": "East", "owner_id": 2},
    {"id": 2, "name": "West", "owner_id": 3},
    {"id": 3, "name": "Key", "owner_id": 1},
]


def _a(aid, name, country, state, postcode, industry, employees, potential, lat, lon, territory_id=None, owner_id=None):
    return {
        "id": aid,
        "name": name,
        "country": country,
        "state": state,
        "postcode": postcode,
        "industry": industry,
        "employees": employees,
        "potential": potential,
        "annual_revenue": potential * 100,
        "latitude": lat,
        "longitude": lon,
        "territory_id": territory_id,
        "owner_id": owner_id,
    }


ACCOUNTS = [
    _a(1, "Acme", "United States", "NY", "10010", "Software", 50, 100.0, 40.7, -74.0),  # East
    _a(2, "Bolt", "United States", "CA", "94110", "Retail", 500, 200.0, 37.8, -122.4),  # West
    _a(3, "Crest", "United States", "TX", "78701", "Software", 5000, 300.0, 30.3, -97.7),  # Key (Large)
    _a(4, "Delta", "Canada", "ON", "M5H 01", "Finance", 100, 400.0, 43.7, -79.4),  # nobody: a gap
    _a(5, "Echo", "United States", "NY", "10200", "Finance", 3000, 500.0, 40.8, -73.9),  # East and Key: overlap
]

# For publishing: Lea leads; Dan (East) and Wes (West) report to her; Rita works for Dan, Ray for Wes, Olga (an
# overlay) for Lea. Accounts placed: Acme, Crest, Echo in East owned by Rita; Bolt, Delta in West owned by Ray.
PEOPLE = [
    {"id": i, "name": n, "role": r, "manager_id": m, "active": True, "ramp_months": 0}
    for i, n, r, m in [
        (1, "Lea", "leader", None),
        (2, "Dan", "manager", 1),
        (3, "Wes", "manager", 1),
        (4, "Rita", "rep", 2),
        (5, "Ray", "rep", 3),
        (9, "Olga", "rep", 1),
    ]
]
PLACED = [
    {**a, "territory_id": t, "owner_id": o} for a, (t, o) in zip(ACCOUNTS, [(1, 4), (2, 5), (1, 4), (2, 5), (1, 4)], strict=True)
]
