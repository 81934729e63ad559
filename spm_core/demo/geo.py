"""Where demo accounts are: clustered around real cities of their country, with a plausible postcode.

A small built-in table (no download, no tiles): city, state, postcode prefix, latitude, longitude.
Accounts are jittered around their city (about ±0.35°) so a map shows clusters, not single dots."""

from __future__ import annotations

import numpy as np
import pandas as pd

# country: ((city, state, postcode prefix, latitude, longitude), ...)
CITIES: dict[str, tuple[tuple[str, str, str, float, float], ...]] = {
    "United States": (
        ("New York", "NY", "100", 40.71, -74.01),
        ("San Francisco", "CA", "941", 37.77, -122.42),
        ("Los Angeles", "CA", "900", 34.05, -118.24),
        ("Chicago", "IL", "606", 41.88, -87.63),
        ("Austin", "TX", "787", 30.27, -97.74),
        ("Boston", "MA", "021", 42.36, -71.06),
        ("Seattle", "WA", "981", 47.61, -122.33),
        ("Atlanta", "GA", "303", 33.75, -84.39),
        ("Denver", "CO", "802", 39.74, -104.99),
        ("Miami", "FL", "331", 25.76, -80.19),
    ),
    "Canada": (
        ("Toronto", "ON", "M5H ", 43.65, -79.38),
        ("Vancouver", "BC", "V6B ", 49.28, -123.12),
        ("Montreal", "QC", "H3B ", 45.50, -73.57),
        ("Calgary", "AB", "T2P ", 51.05, -114.07),
    ),
    "United Kingdom": (
        ("London", "England", "EC1 ", 51.51, -0.13),
        ("Manchester", "England", "M1 ", 53.48, -2.24),
        ("Bristol", "England", "BS1 ", 51.45, -2.59),
        ("Edinburgh", "Scotland", "EH1 ", 55.95, -3.19),
    ),
    "Germany": (
        ("Berlin", "Berlin", "101", 52.52, 13.40),
        ("Munich", "Bavaria", "803", 48.14, 11.58),
        ("Hamburg", "Hamburg", "200", 53.55, 9.99),
        ("Frankfurt", "Hesse", "603", 50.11, 8.68),
    ),
    "France": (
        ("Paris", "Île-de-France", "750", 48.86, 2.35),
        ("Lyon", "Auvergne-Rhône-Alpes", "690", 45.76, 4.84),
        ("Toulouse", "Occitanie", "310", 43.60, 1.44),
    ),
    "Netherlands": (
        ("Amsterdam", "North Holland", "10", 52.37, 4.90),
        ("Rotterdam", "South Holland", "30", 51.92, 4.48),
        ("Utrecht", "Utrecht", "35", 52.09, 5.12),
    ),
    "Australia": (
        ("Sydney", "NSW", "20", -33.87, 151.21),
        ("Melbourne", "VIC", "30", -37.81, 144.96),
        ("Brisbane", "QLD", "40", -27.47, 153.03),
        ("Perth", "WA", "60", -31.95, 115.86),
    ),
    "Japan": (
        ("Tokyo", "Tokyo", "100-00", 35.68, 139.69),
        ("Osaka", "Osaka", "530-00", 34.69, 135.50),
        ("Nagoya", "Aichi", "450-00", 35.18, 136.91),
    ),
    "Singapore": (("Singapore", "Central", "0189", 1.29, 103.85),),
    "Brazil": (
        ("São Paulo", "SP", "010", -23.55, -46.63),
        ("Rio de Janeiro", "RJ", "200", -22.91, -43.17),
        ("Belo Horizonte", "MG", "301", -19.92, -43.94),
    ),
    "Mexico": (
        ("Mexico City", "CDMX", "060", 19.43, -99.13),
        ("Monterrey", "NL", "640", 25.69, -100.32),
        ("Guadalajara", "JAL", "441", 20.67, -103.35),
    ),
}
JITTER_DEGREES = 0.35


def locate(rng: np.random.Generator, accounts: pd.DataFrame) -> pd.DataFrame:
    """The accounts with state, postcode, latitude, longitude (around a city of their country) and potential.

    Potential is a wallet estimate: about 1 % of annual revenue, spread lognormally. Uses its own generator
    so the rest of the demo (deals, quotas) draws exactly what it drew before accounts had a place."""
    n = len(accounts)
    table = pd.DataFrame(
        [(country, *city) for country, cities in CITIES.items() for city in cities],
        columns=["country", "city", "state", "prefix", "lat", "lon"],
    )
    unknown = sorted(set(accounts["country"]) - set(table["country"]))
    if unknown:
        raise ValueError(f"No demo cities for {', '.join(map(str, unknown))}.")
    first = table.groupby("country").cumcount().eq(0)
    start = table.index[first].to_series(index=table.loc[first, "country"])
    count = table.groupby("country").size()
    countries = accounts["country"]
    pick = start[countries].to_numpy() + (rng.random(n) * count[countries].to_numpy()).astype(np.int64)
    cities = table.iloc[pick]
    suffix = rng.integers(1, 100, n)
    return accounts.assign(
        state=cities["state"].to_numpy(),
        postcode=[f"{p}{s:02d}" for p, s in zip(cities["prefix"], suffix, strict=True)],
        latitude=np.round(cities["lat"].to_numpy() + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES, n), 4),
        longitude=np.round(cities["lon"].to_numpy() + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES, n), 4),
        potential=np.round(accounts["annual_revenue"].to_numpy() * 0.01 * rng.lognormal(0, 0.5, n), -2),
    )
