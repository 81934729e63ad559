"""Territory planning (issue 14): rules and named assignments decide each account's territory, a check finds
gaps and overlaps, balancing proposes few moves that even out a criterion. Depends only on the shared core."""
