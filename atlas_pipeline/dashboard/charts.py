"""Charts more than one page draws: a forecast with its intervals and actuals, GPU capacity."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import streamlit as st

from atlas_pipeline.dashboard import data
from atlas_pipeline.dashboard.widgets import num, plot, table
from atlas_pipeline.lib.forecast.forecast_settings import SERIES_COLUMNS
from atlas_pipeline.lib.report import report_queries as q

HISTORY_DAYS = 42


def forecast_chart(dimension: str, key: str, name: str) -> None:
    """The newest forecast of one spend series (point, 80 % and 95 % bands) over the last weeks of
    its actual spend trend (no credits or one-off purchases: what was modelled), anomalies marked."""
    forecast = data.rows(q.forecast(dimension, [key]))
    if not forecast:
        runs = [r for r in data.rows(q.forecast_summary(dimension)) if r["series_key"] == key]
        reason = runs[0]["refused_reason"] if runs and runs[0]["refused_reason"] else "the forecast job has not run"
        st.info(f"No forecast for {dimension} {key!r}: {reason}.")
        return
    as_of = forecast[0]["as_of_date"]
    currency = forecast[0]["billing_currency"]
    actuals = data.rows(q.forecast_actuals(SERIES_COLUMNS[dimension], [key], as_of - timedelta(days=HISTORY_DAYS),
                                           forecast[-1]["forecast_date"] + timedelta(days=1)))
    days = [r["forecast_date"] for r in forecast]
    fig = go.Figure()
    for low, high, label, color in (("lower_95", "upper_95", "95 % interval", "rgba(31,119,180,0.15)"),
                                    ("lower_80", "upper_80", "80 % interval", "rgba(31,119,180,0.30)")):
        fig.add_trace(go.Scatter(x=days + days[::-1], y=[num(r[high]) for r in forecast] + [num(r[low]) for r in
                                 forecast][::-1], fill="toself", fillcolor=color, line={"width": 0}, name=label,
                                 hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=days, y=[num(r["point"]) for r in forecast], name="forecast",
                             line={"color": "rgb(31,119,180)"}))
    fig.add_trace(go.Scatter(x=[r["charge_date"] for r in actuals], y=[num(r["effective_cost"]) for r in actuals],
                             name="actual", line={"color": "black", "width": 1}))
    marked = [a for a in data.rows(q.anomalies()) if a["series_dimension"] == dimension and a["series_key"] == key]
    if marked:
        fig.add_trace(go.Scatter(x=[a["usage_date"] for a in marked], y=[num(a["actual_cost"]) for a in marked],
                                 mode="markers", name="anomaly", marker={"color": "red", "size": 10, "symbol": "x"}))
    fig.update_layout(title=f"{dimension} {key}: daily effective cost ({currency}), forecast as of {as_of} "
                            f"({forecast[0]['model_name']})", yaxis_title=currency)
    plot(fig, name)


def gpu_hours_forecast_chart(clusters: list[str], name: str) -> None:
    """The newest allocated GPU-hours forecast per cluster with its 80 % band."""
    rows = data.rows(q.gpu_hours_forecast(clusters))
    if not rows:
        st.info("No GPU-hours forecast yet (the forecast job has not run, or too little history).")
        return
    fig = go.Figure()
    for cluster in sorted({r["cluster"] for r in rows}):
        mine = [r for r in rows if r["cluster"] == cluster]
        days = [r["forecast_date"] for r in mine]
        fig.add_trace(go.Scatter(x=days + days[::-1], y=[num(r["upper_80"]) for r in mine]
                                 + [num(r["lower_80"]) for r in mine][::-1], fill="toself", line={"width": 0},
                                 name=f"{cluster} 80 %", opacity=0.25, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=days, y=[num(r["point"]) for r in mine], name=f"{cluster} forecast"))
    fig.update_layout(title=f"Allocated GPU-hours per day, forecast as of {rows[0]['as_of_date']}",
                      yaxis_title="GPU-hours")
    plot(fig, name)
    with st.expander("Forecast table"):
        table(data.frame(q.gpu_hours_forecast(clusters)), name)


def capacity_chart(where: q.Slice, name: str) -> None:
    """Capacity vs allocated vs active GPU-hours per day."""
    rows = data.rows(q.gpu_capacity_daily(where))
    if not rows:
        st.info("No GPU capacity data for this selection.")
        return
    fig = go.Figure()
    for column, label in (("gpu_hours_capacity", "capacity"), ("gpu_hours_allocated", "allocated"),
                          ("gpu_hours_active", "active")):
        fig.add_trace(go.Scatter(x=[r["usage_date"] for r in rows], y=[num(r[column]) for r in rows], name=label,
                                 mode="lines", fill="tozeroy" if column != "gpu_hours_capacity" else None))
    fig.update_layout(title="GPU-hours per day: capacity vs allocated vs active", yaxis_title="GPU-hours")
    plot(fig, name)
