"""Import survey responses from CSV: person (email or person id), date (YYYY-MM-DD), score (0-10), comment
(optional). Every row is checked first; a file with any bad row writes nothing and says, per row, what is wrong.
A response for a person and day already in the warehouse is replaced (re-importing a survey export is safe).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import insert_frame, read_frame
from ..schema import person, survey_response

COLUMNS = {"person": ("person", "email", "person_id"), "date": ("date", "response_date"), "score": ("score",)}
MAX_BYTES = 50 * 1024 * 1024
MAX_COMMENT = 2000
_CHUNK = 500


@dataclass(frozen=True)
class RowError:
    row: int  # the line in the file (the header is line 1)
    column: str
    value: str
    why: str


@dataclass(frozen=True)
class Checked:
    """A parsed file: the rows ready to insert, or the errors that stop it."""

    rows: pd.DataFrame
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


class PulseFileError(ValueError):
    """The file cannot be read at all (not CSV, a required column missing, too large)."""


def _column(frame: pd.DataFrame, wanted: str) -> str | None:
    names = {c.strip().lower(): c for c in frame.columns}
    return next((names[n] for n in COLUMNS[wanted] if n in names), None)


def _read(data: bytes) -> pd.DataFrame:
    if len(data) > MAX_BYTES:
        raise PulseFileError(f"The file is larger than {MAX_BYTES // 2**20} MB.")
    try:
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise PulseFileError(f"Not a readable UTF-8 CSV file: {exc}") from None


def _people(engine: Engine) -> dict[str, int]:
    """Lower-cased email and id (as text) -> person id."""
    found = read_frame(engine, sa.select(person.c.id, person.c.email))
    keys = {str(int(i)): int(i) for i in found["id"]}
    keys |= {str(e).strip().lower(): int(i) for i, e in zip(found["id"], found["email"], strict=True) if isinstance(e, str)}
    return keys


def check(engine: Engine, data: bytes, as_of: date) -> Checked:
    """Parse and validate every row against the warehouse's people (nothing is written)."""
    frame = _read(data)
    found = {name: _column(frame, name) for name in COLUMNS}
    missing = [f"{name} ({' or '.join(COLUMNS[name])})" for name, col in found.items() if col is None]
    if missing:
        raise PulseFileError(f"Missing column(s): {', '.join(missing)}. Found: {', '.join(map(str, frame.columns))}.")
    comment_col = next((c for c in frame.columns if c.strip().lower() == "comment"), None)
    people = _people(engine)
    rows, errors, seen = [], [], {}
    for i, record in enumerate(frame.to_dict("records"), start=2):
        raw = {name: str(record[col]).strip() for name, col in found.items()}
        problems = []
        who = people.get(raw["person"].lower())
        if who is None:
            problems.append(RowError(i, "person", raw["person"], "no person with this email or id in the warehouse"))
        try:
            day = date.fromisoformat(raw["date"])
            if day > as_of:
                problems.append(RowError(i, "date", raw["date"], f"after today ({as_of})"))
        except ValueError:
            day = None
            problems.append(RowError(i, "date", raw["date"], "not a date (YYYY-MM-DD)"))
        score = int(raw["score"]) if raw["score"].isdigit() else None
        if score is None or score > 10:
            problems.append(RowError(i, "score", raw["score"], "not a whole number from 0 to 10"))
        comment = str(record[comment_col]).strip() if comment_col else ""
        if len(comment) > MAX_COMMENT:
            problems.append(RowError(i, "comment", comment[:40] + "…", f"longer than {MAX_COMMENT} characters"))
        if who is not None and day is not None and (who, day) in seen:
            problems.append(
                RowError(i, "person", raw["person"], f"a second response on {day} (first on line {seen[(who, day)]})")
            )
        if problems:
            errors += problems
            continue
        seen[(who, day)] = i
        rows.append({"person_id": who, "response_date": day, "score": score, "comment": comment or None})
    columns = ["person_id", "response_date", "score", "comment"]
    return Checked(pd.DataFrame(rows, columns=columns), tuple(errors))


def apply(engine: Engine, checked: Checked) -> int:
    """Write a checked file in one transaction (replacing responses of the same person and day); rows written."""
    if not checked.ok:
        raise ValueError("This file has row errors; nothing was written.")
    r = survey_response.c
    with engine.begin() as conn:
        survey_response.create(conn, checkfirst=True)  # a warehouse built before the pulse existed
        pairs = list(zip(checked.rows["person_id"], checked.rows["response_date"], strict=True))
        for start in range(0, len(pairs), _CHUNK):
            conn.execute(
                survey_response.delete().where(sa.tuple_(r.person_id, r.response_date).in_(pairs[start : start + _CHUNK]))
            )
        first = conn.execute(sa.select(sa.func.coalesce(sa.func.max(r.id), 0))).scalar_one() + 1
        rows = checked.rows.assign(id=range(first, first + len(checked.rows)))
        if len(rows):
            insert_frame(conn, survey_response, rows)
    return len(checked.rows)
