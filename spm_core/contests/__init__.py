"""Contests: definitions stored in the warehouse, scores from the metrics layer, boards (ranked, race,
elimination) with 1224 ranks and the change since yesterday."""
