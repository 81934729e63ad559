"""Ids for exports that have none: `row_keys(cells) -> ids`, a stable hash of the columns that tell deals apart.

A re-import updates rows in place only if each row gets the same id every time, so the id depends on the
chosen cells alone (trimmed, runs of spaces as one, without case), never on the row's position or the
date of the import. The ids are short hashes rather than the joined text so that no id is too long for
the warehouse and none repeats customer names in URLs and logs.
"""

from __future__ import annotations

import hashlib

import pandas as pd

SEPARATOR = "\x1f"  # the ASCII unit separator: no exported cell contains it, so "a b"+"c" differs from "a"+"b c"


def normalised(cells: pd.DataFrame) -> pd.Series:
    """Each row's chosen cells as one comparable text."""
    parts = [cells[c].astype("string").fillna("").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold() for c in cells]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + SEPARATOR + part
    return joined


def row_keys(cells: pd.DataFrame) -> pd.Series:
    """An id per row, "h" and 16 hex digits, the same for the same cells in any file or run."""
    keys = [f"h{hashlib.blake2b(text.encode(), digest_size=8).hexdigest()}" for text in normalised(cells)]
    return pd.Series(keys, index=cells.index, dtype="string")
