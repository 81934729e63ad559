"""The generic import carries each deal's account's location, head count and potential (territory planning reads them),
also into a warehouse created before those columns existed; a coordinate out of range is a row error."""

from __future__ import annotations

import sqlalchemy as sa

from spm_core.db import create_schema, make_engine, read_frame
from spm_core.importing.apply import apply_import
from spm_core.importing.csvfile import read_upload
from spm_core.importing.formats import parse, suggest_mapping
from spm_core.importing.plan import plan_import
from spm_core.schema import account

CSV = (
    "Id,Owner,Account,Amount,Stage,Close Date,Country,Billing State,Zip,Latitude,Longitude,Potential,Employees\n"
    'D1,Ann Lee,Acme,100,Closed Won,2026-02-10,United States,NY,10010,40.71,-74.01,"25,000",250\n'
    "D2,Ann Lee,Globex,200,Proposal,2026-03-10,Canada,ON,M5H 01,43.65,-79.38,,\n"
)


def parsed(text: str):
    raw = read_upload("deals.csv", text.encode())
    return parse("generic", {"deals.csv": raw}, suggest_mapping(list(raw.frame.columns)))


def test_location_and_potential_reach_the_accounts_of_an_older_warehouse(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path / 'old.duckdb'}")
    create_schema(engine)
    with engine.begin() as conn:
        for column in ("state", "postcode", "latitude", "longitude", "potential"):
            conn.execute(sa.text(f"ALTER TABLE account DROP COLUMN {column}"))  # as before territory planning
    apply_import(engine, plan_import(engine, parsed(CSV)))
    rows = read_frame(
        engine,
        sa.select(
            account.c.name,
            account.c.state,
            account.c.postcode,
            account.c.latitude,
            account.c.longitude,
            account.c.potential,
            account.c.employees,
        ).order_by(account.c.name),
    )
    assert rows.astype(object).where(rows.notna(), None).values.tolist() == [
        ["Acme", "NY", "10010", 40.71, -74.01, 25_000.0, 250],
        ["Globex", "ON", "M5H 01", 43.65, -79.38, None, None],
    ]
    engine.dispose()


def test_a_latitude_out_of_range_is_a_row_error():
    found = parsed(CSV.replace("40.71", "140.7"))
    assert [(e.row, e.column) for e in found.errors] == [(2, "Latitude")]
    assert "decimal degrees from -90 to 90" in found.errors[0].why
