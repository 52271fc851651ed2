"""Forecasts with intervals, anomalies with their explaining dimension, budgets (each once)."""

from __future__ import annotations

import streamlit as st

from atlas_pipeline.dashboard import data
from atlas_pipeline.dashboard.charts import forecast_chart, gpu_hours_forecast_chart
from atlas_pipeline.dashboard.widgets import budget_chart, period_filter, table
from atlas_pipeline.lib.report import report_queries as q


def render() -> None:
    st.title("Forecasts, anomalies and budgets")
    period = period_filter()
    st.subheader("Budgets")
    budgets = data.rows(q.budgets())
    budget_chart(budgets, "chart-budgets")
    table(data.frame(q.budgets()), "budgets", "Each budget once, as of the newest forecast run")

    st.subheader("Spend forecast")
    summary = data.rows(q.forecast_summary())
    dimensions = sorted({r["series_dimension"] for r in summary if r["series_dimension"] != "gpu_cluster"})
    if dimensions:
        a, b = st.columns(2)
        dimension = a.selectbox("Series", dimensions, key="forecast_dimension")
        keys = sorted(r["series_key"] for r in summary if r["series_dimension"] == dimension)
        key = b.selectbox(dimension.capitalize(), keys, key=f"forecast_key_{dimension}")
        forecast_chart(dimension, key, "chart-forecast")
    else:
        st.info("No forecast yet: the forecast job has not run.")
    table(data.frame(q.forecast_summary()), "forecast_summary",
          "Every series' latest run: the model and its backtest error, or why no forecast was made")
    st.subheader("GPU-hours forecast")
    gpu_hours_forecast_chart([], "chart-forecast-gpu-hours")

    st.subheader("Cost anomalies")
    table(data.frame(q.anomalies(q.Slice.of(period.start, period.end))), "cost_anomalies",
          "Days outside the 95 % interval of a forecast made before them, with the dimension value that explains most")
