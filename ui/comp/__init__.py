"""The compensation pages' shared parts: who acts, periods from the URL, a statement drawn, writes."""
