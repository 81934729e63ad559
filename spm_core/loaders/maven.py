"""Load Maven Analytics' "CRM Sales Opportunities" dataset in place of the warehouse's contents:
`load_maven(engine, directory)`, behind `python -m spm_core load-maven`.

It is the importer's `maven` format (spm_core/importing/formats.py holds every rule: product-name
variants, the sector typo, amounts of open and lost deals) run on an emptied warehouse, so the two
commands cannot drift apart. Every row is checked, against an empty warehouse, before anything is
dropped; the schema is then recreated and the import written in one transaction, so a failure while
writing leaves an empty schema rather than a mix of two datasets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from ..db import create_schema, drop_schema
from ..importing import ImportRejected, RowError, apply_import, parse, read_upload
from ..importing.formats import MAVEN_FILES
from ..importing.plan import resolve
from ..stages import stage_rows

SHOWN_ERRORS = 5


@dataclass(frozen=True)
class MavenLoadReport:
    """Rows written per table, and the product names in deals that differed from products.csv."""

    regions: int
    teams: int
    people: int
    managers: int
    reps: int
    accounts: int
    products: int
    stages: int
    opportunities: int
    product_variants: tuple[tuple[str, str], ...]  # (name in sales_pipeline.csv, name in products.csv)


def load_maven(engine: Engine, directory: Path) -> MavenLoadReport:
    """Replace the warehouse's contents with the Maven CRM dataset in `directory`.

    Raises ImportRejected (a ValueError) naming the files or rows that cannot be loaded."""
    directory = Path(directory)
    files = {name: read_upload(name, (directory / name).read_bytes()) for name in MAVEN_FILES if (directory / name).is_file()}
    parsed = parse("maven", files)
    with engine.connect() as conn:
        plan = resolve(conn, parsed, exists=False).plan(parsed)  # as if empty: the warehouse is replaced
    if not plan.ok:
        raise ImportRejected(_summary(directory, plan.errors), plan.errors)
    drop_schema(engine)
    create_schema(engine)
    report = apply_import(engine, plan)
    roles = parsed.people["role"].value_counts()
    return MavenLoadReport(
        regions=report.inserted["region"],
        teams=report.inserted["team"],
        people=report.inserted["person"],
        managers=int(roles.get("manager", 0)),
        reps=int(roles.get("rep", 0)),
        accounts=report.inserted["account"],
        products=report.inserted["product"],
        stages=len(stage_rows()),
        opportunities=report.inserted["opportunity"],
        product_variants=tuple(sorted(report.product_matches.items())),
    )


def _summary(directory: Path, errors: list[RowError]) -> str:
    """One message naming the first rows that fail (the CLI prints it as one error)."""
    shown = "; ".join(f"{e.file} row {e.row}, {e.column} = {e.value!r}: {e.why}" for e in errors[:SHOWN_ERRORS])
    more = f"; and {len(errors) - SHOWN_ERRORS} more" if len(errors) > SHOWN_ERRORS else ""
    return f"{len(errors)} row(s) of the Maven files in {directory} cannot be loaded, nothing was changed: {shown}{more}"
