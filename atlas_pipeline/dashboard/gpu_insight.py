"""Why GPUs sit idle and what placement costs: stranded GPUs and jobs placed wider than needed,
allocated-but-idle time by cause, per-node scores and what schedulers are told, fault drills."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from atlas_pipeline.dashboard import data
from atlas_pipeline.dashboard.widgets import num, period_filter, plot, table
from atlas_pipeline.lib.report import report_queries as q

# Causes in the order a reader acts on them (stalls first, then the idle share of busy GPUs).
CAUSE_ORDER = ("waiting_on_input", "job_idle", "idle_with_some_io", "io_not_measured", "gpu_not_reporting",
               "underused_while_busy")


def fragmentation_section(where: q.Slice) -> None:
    st.subheader("Fragmentation: stranded GPUs and jobs placed wider than needed")
    st.caption("Stranded: free GPUs on partly used nodes that no waiting job's shape could use. Placed wider: "
               "multi-GPU jobs on more nodes, racks, leaf switches or NVLink domains than what was free at "
               "their start required.")
    table(data.frame(q.gpu_fragmentation_by_cluster(where)), "gpu_fragmentation_by_cluster")
    daily = data.frame(q.gpu_fragmentation_daily(where))
    if not daily.empty:
        fig = go.Figure()
        for column, label in (("gpu_hours_stranded", "stranded"), ("gpu_hours_placed_wider", "placed wider"),
                              ("gpu_hours_waited", "waited in the queue")):
            fig.add_trace(go.Bar(x=daily["usage_date"], y=[num(v) for v in daily[column]], name=label))
        fig.update_layout(barmode="group", title="GPU-hours per day", yaxis_title="GPU-hours")
        plot(fig, "chart-gpu-fragmentation")
    table(data.frame(q.gpu_jobs_placed_wider(where)), "gpu_jobs_placed_wider",
          "Jobs placed wider than needed (used vs fewest that could have held them at their start)")


def idle_causes_section(where: q.Slice) -> None:
    st.subheader("Why allocated GPUs sat idle")
    st.caption("waiting_on_input: GPU activity low while the node read at or near its measured ceiling (disk, "
               "network, NFS) or host-to-device PCIe ran near its ceiling · job_idle: low activity and no input "
               "either · io_not_measured: no node_exporter or PCIe RX telemetry for that moment · "
               "underused_while_busy: the idle share of a busy GPU.")
    by_cluster = data.frame(q.gpu_idle_causes(where, by="cluster"))
    if not by_cluster.empty:
        fig = go.Figure()
        by_cluster["label"] = [f"{c} ({k})" for c, k in zip(by_cluster["cluster"], by_cluster["currency"],
                                                            strict=True)]
        labels = list(dict.fromkeys(by_cluster["label"]))
        cost = {(r.label, r.idle_cause): r.idle_cost for r in by_cluster.itertuples()}
        for cause in CAUSE_ORDER:
            if any((label, cause) in cost for label in labels):
                fig.add_trace(go.Bar(x=labels, y=[num(cost.get((label, cause))) for label in labels], name=cause))
        fig.update_layout(barmode="stack", title="Idle cost of allocated GPUs, by cause")
        plot(fig, "chart-gpu-idle-causes")
    causes = data.frame(q.gpu_idle_causes(where, by="team"))
    table(causes, "gpu_idle_causes_by_team", "Per team and cause")
    present = [c for c in CAUSE_ORDER if not causes.empty and c in set(causes["idle_cause"])]
    if present:
        cause = st.selectbox("Jobs idle for", present, key="gpu_idle_cause_pick")
        table(data.frame(q.gpu_idle_cause_jobs(cause, where)), f"gpu_idle_jobs_{cause}")


def scores_section(chosen_clusters: list[str]) -> None:
    st.subheader("Per-GPU scores for schedulers")
    days = data.values(q.gpu_score_days())
    if not days:
        st.info("No GPU scores yet: they come from GPU telemetry (fct_gpu_scores_daily).")
        return
    day = st.selectbox("Day", days, key="gpu_score_day", format_func=lambda d: d.isoformat())
    scores = data.frame(q.gpu_node_scores(day, q.Slice.of(cluster=chosen_clusters)))
    if not scores.empty:
        a, b, c = st.columns(3)
        a.metric("Nodes scored", len(scores))
        b.metric("Below 100", int((scores["score"] < 100).sum()))
        c.metric("Failed", int((scores["health"] == "failed").sum()))
    table(scores, "gpu_node_scores", "Worst first. Slurm Weight (lower is used first) and Kubernetes labels as "
          "written to $ATLAS_HOME/reports/scheduler/latest/ by the gpu_scheduler_hints asset")


def drills_section(where: q.Slice) -> None:
    st.subheader("Fault drills: injected vs detected")
    classes = data.frame(q.gpu_fault_drill_classes(where))
    if classes.empty:
        st.info("No fault drill declared: drill logs go under telemetry/drills/ (README \"Fault drills\").")
        return
    table(classes, "gpu_fault_drill_classes", "Per drill and fault class; seconds from injection to the evidence")
    table(data.frame(q.gpu_fault_drill_injections(where)), "gpu_fault_drill_injections",
          "Every injection, and why a missed one was missed")


def render() -> None:
    st.title("GPU placement and idle")
    period = period_filter()
    clusters = [str(c) for c in data.values(q.gpu_options("cluster"))]
    chosen = st.multiselect("Clusters", clusters, key="gpu_insight_clusters", placeholder="all")
    where = q.Slice.of(period.start, period.end, cluster=chosen)
    fragmentation_section(where)
    idle_causes_section(where)
    scores_section(chosen)
    drills_section(where)
