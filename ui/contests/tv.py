"""TV mode: contest boards in large type for a screen on the sales floor, rotating and refreshing.

    ?tv=1&boards=3,5&every=20

`boards` lists contest ids (default: every contest the viewer may see), `every` the seconds per board
(5 to 3600, default 20). Bad values are dropped with a notice, never an error.
"""

from __future__ import annotations

import pandas as pd

from spm_core.contests.badges import ICONS
from spm_core.contests.model import Contest
from ui.text import md

DEFAULT_EVERY, MIN_EVERY, MAX_EVERY = 20, 5, 3600
LARGE_TYPE = """<style>
[data-testid="stMarkdownContainer"] table { font-size: 2.2rem; width: 100%; }
[data-testid="stMarkdownContainer"] h1 { font-size: 3.5rem; }
</style>"""  # our own constant CSS; no outside text


def parse(params: dict[str, str], contests: list[Contest]) -> tuple[list[Contest], int, list[str]]:
    """The boards to rotate, the seconds per board, and notices (Markdown, values escaped) for what was dropped."""
    notices, by_id = [], {c.id: c for c in contests}
    chosen = list(contests)
    if params.get("boards"):
        parts = [p.strip() for p in params["boards"].split(",") if p.strip()]
        wanted = [int(p) for p in parts if p.isdigit() and int(p) in by_id]
        bad = [p for p in parts if not (p.isdigit() and int(p) in by_id)]
        if bad:
            notices.append(f"Ignored boards {', '.join(map(md, bad))}: no contest with that id that this screen may show.")
        chosen = [by_id[i] for i in dict.fromkeys(wanted)] or chosen
    every = DEFAULT_EVERY
    raw = params.get("every")
    if raw is not None:
        if raw.isdigit() and MIN_EVERY <= int(raw) <= MAX_EVERY:
            every = int(raw)
        else:
            notices.append(
                f"Ignored every={md(raw)}: seconds per board, from {MIN_EVERY} to {MAX_EVERY}; showing each for {DEFAULT_EVERY}."
            )
    return chosen, every, notices


def _row(rank: int, name: str, badges: tuple[str, ...], score: float, extra: str) -> str:
    icons = "".join(ICONS[b] for b in badges)
    return f"| {rank} | {md(name)} {icons} | {score:,.1f} |{extra}"


def board_markdown(c: Contest, frame: pd.DataFrame, top: int = 10) -> str:
    """The top of a board as a Markdown table (names escaped; the pipe too, so a name never splits a row)."""
    head = "| # | Name | Points |"
    rule = "|---:|:---|---:|"
    if c.board == "race":
        head, rule = head + " To target |", rule + "---:|"
        extras = [f" {p:.0%} |" for p in frame["progress"].head(top)]
    elif c.board == "elimination":
        head, rule = head + " Status |", rule + ":---|"
        extras = [" in |" if pd.isna(r) else f" out (round {r}) |" for r in frame["out_in_round"].head(top)]
    else:
        extras = [""] * min(top, len(frame))
    shown = frame.head(top)
    rows = [
        _row(int(r), n, b, float(s), e)
        for r, n, b, s, e in zip(shown["rank"], shown["name"], shown["badges"], shown["score"], extras, strict=True)
    ]
    return "\n".join([head, rule, *rows])
