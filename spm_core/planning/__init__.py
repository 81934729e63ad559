"""Quota planning (issue 13): scenarios allocated down the manager tree, ramp, capacity, bottom-up,
approval and publishing into the quota table. Depends downward only on the shared core."""
