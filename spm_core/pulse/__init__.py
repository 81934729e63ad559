"""Employee pulse: eNPS survey responses, their CSV import and demo generation, and the anonymity rules
every figure of them obeys (SPEC.md: groups with fewer than 5 responses are not shown)."""
