"""Hand-made imports for the import tests: frames as the generic CSV parser would hand them over."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from spm_core.importing.model import Parsed


def generic_parsed(stage_mapping: Mapping[str, str], **frames: pd.DataFrame) -> Parsed:
    """A Parsed of the generic format whose frames came from files named after them (data from line 2)."""
    return Parsed(
        "generic",
        **frames,
        line_numbers={name: pd.Series(range(2, len(f) + 2)) for name, f in frames.items()},
        files={name: f"{name}.csv" for name in frames},
        default_stage_mapping=dict(stage_mapping),
    )
