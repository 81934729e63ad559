"""Loss reasons for the demo's lost deals, as a CRM's required "Loss Reason" picklist records them.

Drawn from their own random stream (so adding them changed no other demo number), with a mix by deal type:
new business is mostly lost to competitors and indecision, renewals to price and budget cuts. A few lost
deals have none recorded, as in any real CRM, so the reports' "Not recorded" row is exercised too.
"""

from __future__ import annotations

import numpy as np

REASONS = ("Price", "Competitor", "No decision", "Timing", "Budget", "Product fit")
# rows: New Business, Expansion, Renewal (deals.TYPES order)
MIX_BY_TYPE = np.array(
    [
        [0.20, 0.27, 0.25, 0.10, 0.10, 0.08],
        [0.25, 0.10, 0.20, 0.20, 0.20, 0.05],
        [0.30, 0.30, 0.05, 0.05, 0.25, 0.05],
    ]
)
NOT_RECORDED_SHARE = 0.05


def loss_reason_codes(rng: np.random.Generator, type_code: np.ndarray, lost: np.ndarray) -> np.ndarray:
    """A code into REASONS for every lost deal, -1 for deals not lost and for lost deals with none recorded."""
    draw = rng.random(len(type_code))
    cumulative = MIX_BY_TYPE.cumsum(axis=1)[type_code]
    codes = (draw[:, None] > cumulative).sum(axis=1).clip(max=len(REASONS) - 1)
    recorded = rng.random(len(type_code)) >= NOT_RECORDED_SHARE
    return np.where(lost & recorded, codes, -1)
