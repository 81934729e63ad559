"""Period reviews (what went right and wrong in a month or quarter) and the files they are written to."""
