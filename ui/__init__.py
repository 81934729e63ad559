"""Streamlit glue shared by the pages: the warehouse connection, cached queries, formatting.

Everything here is thin: numbers come from spm_core; this package only caches and draws them.
"""
