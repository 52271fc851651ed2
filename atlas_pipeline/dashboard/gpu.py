"""The GPU fleet: capacity vs allocated vs active per cluster, cost per GPU-hour, idle cost by
cause, whose GPU spend rose, the worst GPUs with their events, the GPU-hours forecast."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from atlas_pipeline.dashboard import data
from atlas_pipeline.dashboard.charts import capacity_chart, gpu_hours_forecast_chart
from atlas_pipeline.dashboard.widgets import gpu_month_select, num, page_link, period_filter, plot, table
from atlas_pipeline.lib.report import report_queries as q


def worst_gpus_section(where: q.Slice, name: str) -> None:
    """The worst GPUs of the selection; pick one to see its events."""
    worst = data.frame(q.worst_gpus(where))
    table(worst, f"{name}_worst_gpus", "Most failed, then degraded days, fatal XIDs and stragglers")
    if worst.empty:
        return
    labels = [f"{h} GPU {i}" for h, i in zip(worst["hostname"], worst["gpu_index"], strict=True)]
    picked = st.selectbox("Events of", labels, key=f"{name}_worst_pick")
    row = worst.iloc[labels.index(picked)]
    table(data.frame(q.gpu_events(str(row["hostname"]), int(row["gpu_index"]), where)), f"{name}_gpu_events",
          f"Health events of {picked} (and its node's power transients)")


def render() -> None:
    st.title("GPU fleet")
    period = period_filter()
    clusters = [str(c) for c in data.values(q.gpu_options("cluster"))]
    chosen = st.multiselect("Clusters", clusters, key="gpu_clusters", placeholder="all")
    where = q.Slice.of(period.start, period.end, cluster=chosen)

    st.subheader("Capacity vs allocated vs active")
    capacity = data.frame(q.gpu_capacity_by_cluster(where))
    if not capacity.empty:
        fig = go.Figure()
        for column, label in (("gpu_hours_capacity", "capacity"), ("gpu_hours_allocated", "allocated"),
                              ("gpu_hours_active", "active")):
            fig.add_trace(go.Bar(x=capacity["cluster"], y=[num(v) for v in capacity[column]], name=label))
        fig.update_layout(barmode="group", title="GPU-hours per cluster", yaxis_title="GPU-hours")
        plot(fig, "chart-gpu-capacity")
        capacity.insert(1, "page", [page_link("cluster", "cluster", c) for c in capacity["cluster"]])
    table(capacity, "gpu_capacity_by_cluster", page=st.column_config.LinkColumn("page", display_text="open"))
    capacity_chart(where, "chart-gpu-capacity-daily")

    st.subheader("Cost per GPU-hour and idle cost by cause")
    cost = data.frame(q.gpu_cost_by(["cluster"], where))
    if not cost.empty:
        fig = go.Figure()
        for column, label in (("used_cost", "used"), ("idle_allocated_unused", "idle: allocated but unused"),
                              ("idle_unallocated", "idle: unallocated"), ("unmeasured_cost", "unmeasured")):
            fig.add_trace(go.Bar(x=[f"{c} ({k})" for c, k in zip(cost["cluster"], cost["currency"], strict=True)],
                                 y=[num(v) for v in cost[column]], name=label))
        fig.update_layout(barmode="stack", title="GPU cost paid per cluster, by what it bought")
        plot(fig, "chart-gpu-idle")
    table(cost, "gpu_cost_by_cluster", "cost_per_gpu_hour = paid / GPU-hours paid for; "
          "cost_per_active_gpu_hour = paid / active GPU-hours")

    st.subheader("Whose GPU spend rose")
    month = gpu_month_select("gpu_mom_month")
    if month is not None:
        table(data.frame(q.gpu_cost_month_over_month(month, q.Slice.of(cluster=chosen))), "gpu_cost_month_over_month",
              "Per team and cluster: GPU cost of the month, the month before, the change (largest rise first) "
              "and how much of it sat idle")

    st.subheader("Worst GPUs")
    worst_gpus_section(where, "fleet")
    st.subheader("GPU-hours forecast")
    gpu_hours_forecast_chart(chosen, "chart-gpu-hours-forecast")
