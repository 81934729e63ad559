"""ui/leaderboard_view.table_rows: the board's table lists the top rows and the viewer's own row below them."""

from __future__ import annotations

import pandas as pd

from ui.leaderboard_view import table_rows

BOARD = pd.DataFrame(
    {"rank": [1, 2, 2, 4, 5], "name": list("abcde"), "value": [9.0, 8.0, 8.0, 5.0, 1.0]}, index=[10, 20, 30, 40, 50]
)


def test_the_top_rows_when_the_viewer_is_among_them():
    assert table_rows(BOARD, 20, 3).index.tolist() == [10, 20, 30]


def test_the_viewer_below_the_top_is_added_at_the_end():
    rows = table_rows(BOARD, 50, 3)
    assert rows.index.tolist() == [10, 20, 30, 50]
    assert rows.loc[50, "rank"] == 5


def test_a_viewer_not_on_the_board_or_none_adds_nothing():
    assert table_rows(BOARD, 99, 2).index.tolist() == [10, 20]
    assert table_rows(BOARD, None, 10).index.tolist() == [10, 20, 30, 40, 50]
