"""Download buttons. Every file goes through spm_core.exports, so no download carries a live spreadsheet formula."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spm_core.exports import to_csv_bytes


def csv_download(label: str, frame: pd.DataFrame, file_name: str, key: str) -> None:
    """A button that downloads `frame` as CSV, its text cells neutralised against formula injection."""
    st.download_button(label, to_csv_bytes(frame), file_name=file_name, mime="text/csv", key=key, icon=":material/download:")
