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
