"""Coaching: activities against the team, rep scorecards, coaching flags, 1:1 notes.

Built on the metrics layer (every number is a metrics.query value, so it agrees with the dashboards)
and on the viewer's Scope (people.py): nothing here reads a person outside it, except the team
medians, which are aggregates over the whole team (the leaderboards already rank everyone's activities).
"""
