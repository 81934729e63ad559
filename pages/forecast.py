"""Placeholder until this view is built."""

import streamlit as st

st.title("Forecast")
st.info("This view is being built.")
