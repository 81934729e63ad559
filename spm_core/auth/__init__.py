"""Signing in: revocable session tokens, a growing delay after failed attempts instead of a lock
anyone could trigger, and one decision function the app and tests share."""
