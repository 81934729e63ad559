"""Sales performance management: the library behind the app (no Streamlit here)."""

from . import portable  # noqa: F401  (registers each warehouse's spelling of SQL, e.g. BigQuery's recursive CTEs)
