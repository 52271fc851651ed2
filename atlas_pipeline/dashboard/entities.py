"""A page per team, per provider and per cluster (`team?team=web`, `provider?provider=Microsoft`,
`cluster?cluster=aws-train`)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from atlas_pipeline.dashboard import data
from atlas_pipeline.dashboard.charts import capacity_chart, forecast_chart, gpu_hours_forecast_chart
from atlas_pipeline.dashboard.widgets import (
    Period,
    budget_chart,
    change,
    entity_select,
    gpu_month_select,
    money,
    num,
    period_filter,
    plot,
    table,
)
from atlas_pipeline.lib.report import report_queries as q


def _gpu_metrics(where: q.Slice, paid_label: str = "GPU cost paid") -> None:
    totals = data.rows(q.gpu_cost_totals(where))
    if not totals:
        st.info("No GPU cost for this selection.")
        return
    for row in totals:
        currency = row["currency"]
        a, b, c, d = st.columns(4)
        a.metric(f"{paid_label} ({currency})", money(row["paid_cost"]))
        b.metric(f"GPU used ({currency})", money(row["used_cost"]), help="Allocated cost x GPU activity.")
        c.metric(f"GPU idle ({currency})", money(row["idle_cost"]),
                 help=f"Allocated but unused {money(row['idle_allocated_unused'])} + unallocated "
                      f"{money(row['idle_unallocated'])}.")
        d.metric(f"Unmeasured ({currency})", money(row["unmeasured_cost"]),
                 help="Jobs on GPUs without GPU-level telemetry: allocated, but how much was used is unknown.")


def _monthly_cloud(where: q.Slice, by: str, title: str, name: str) -> None:
    rows = data.rows(q.spend_monthly(where, by))
    fig = go.Figure()
    for key in sorted({str(r[by]) for r in rows}):
        mine = [r for r in rows if str(r[by]) == key]
        fig.add_trace(go.Bar(x=[r["billing_month"].strftime("%Y-%m") for r in mine],
                             y=[num(r["effective_cost"]) for r in mine], name=key))
    fig.update_layout(barmode="stack", title=title, xaxis_type="category")
    plot(fig, f"chart-{name}", height=320)
    table(data.frame(q.spend_monthly(where, by)), name)


def _gpu_month_over_month(where: q.Slice, name: str) -> None:
    month = gpu_month_select(f"{name}-month")
    if month is not None:
        table(data.frame(q.gpu_cost_month_over_month(month, where)), name,
              "GPU cost of the month against the month before, and how much of it sat idle")


def _chosen(label: str, options: list[str], param: str, column: str, empty: str) -> tuple[str, Period, q.Slice] | None:
    """The page's title and its team / provider / cluster (kept in the URL as `?<param>=`), the
    sidebar's period and their slice; None, with `empty` said, when the warehouse has none yet."""
    st.title(label)
    chosen = entity_select(label, options, param, f"page_{param}")
    if chosen is None:
        st.info(empty)
        return None
    period = period_filter()
    return chosen, period, q.Slice.of(period.start, period.end, **{column: [chosen]})


def _budget_and_forecast(scope: str, value: str) -> None:
    """A team's or a provider's budgets this month and its spend forecast."""
    st.subheader("Budget and forecast")
    budget_chart(data.rows(q.budgets(scope, value)), f"chart-{scope}-budget")
    forecast_chart(scope, value, f"chart-{scope}-forecast")


def team_page() -> None:
    teams = sorted(set(map(str, data.values(q.spend_options("team")))) | set(data.values(q.gpu_options("team"))))
    page = _chosen("Team", teams, "team", "team", "No teams in the warehouse yet.")
    if page is None:
        return
    team, period, where = page
    totals = data.rows(q.spend_totals(where))[0]
    st.subheader("Cloud cost")
    months = [m for m in data.rows(q.spend_monthly(where)) if m["is_complete_month"]]
    a, b = st.columns(2)
    a.metric(f"Effective cost, {period.label} ({totals['reporting_currency'] or ''})", money(totals["effective_cost"]))
    if months:
        last = months[-1]
        b.metric(f"Last complete month {last['billing_month']:%Y-%m}", money(last["effective_cost"]),
                 change(last["effective_cost"], last["effective_cost_previous_month"]), delta_color="inverse")
    _monthly_cloud(where, "provider_name", f"{team}: effective cost per month and provider", "team_cloud_monthly")
    table(data.frame(q.spend_by("service_name", where)), "team_services", "Services")

    st.subheader("GPU cost")
    # A team's paid GPU cost is what was allocated to its jobs (GPU-hours held x price per GPU-hour).
    _gpu_metrics(where, "GPU cost allocated")
    table(data.frame(q.gpu_cost_by(["cluster"], where)), "team_gpu_by_cluster",
          "GPU cost per cluster: paid = used + idle (allocated but unused + unallocated) + unmeasured")
    _gpu_month_over_month(q.Slice.of(team=[team]), "team_gpu_month_over_month")

    _budget_and_forecast("team", team)


def provider_page() -> None:
    providers = [str(p) for p in data.values(q.spend_options("provider_name"))]
    page = _chosen("Provider", providers, "provider", "provider_name", "No cost data in the warehouse yet.")
    if page is None:
        return
    provider, _, where = page
    totals = data.rows(q.spend_totals(where))[0]
    currency = totals["reporting_currency"] or ""
    a, b, c = st.columns(3)
    a.metric(f"Effective cost ({currency})", money(totals["effective_cost"]))
    b.metric(f"Billed cost ({currency})", money(totals["billed_cost"]))
    unused = data.rows(q.unused_commitment_total(where))[0]
    c.metric(f"Unused commitments ({unused['reporting_currency'] or currency})", money(unused["unused_cost"]))
    _monthly_cloud(where, "service_name", f"{provider}: effective cost per month and service", "provider_monthly")
    left, right = st.columns(2)
    with left:
        table(data.frame(q.spend_by("billing_account_id", where)), "provider_accounts", "Billing accounts")
    with right:
        table(data.frame(q.spend_by("region_id", where)), "provider_regions", "Regions")
    table(data.frame(q.commitment_utilization(where)), "provider_commitments", "Commitments")
    _budget_and_forecast("provider", provider)


def cluster_page() -> None:
    clusters = [str(c) for c in data.values(q.gpu_options("cluster"))]
    page = _chosen("Cluster", clusters, "cluster", "cluster", "No GPU clusters in the warehouse yet.")
    if page is None:
        return
    cluster, _, where = page
    capacity = data.rows(q.gpu_capacity_by_cluster(where))
    if capacity:
        row = capacity[0]
        a, b, c, d = st.columns(4)
        a.metric("GPUs", f"{row['gpus']:,}")
        b.metric("Capacity GPU-hours", f"{row['gpu_hours_capacity']:,}")
        c.metric("Allocated", f"{row['allocated_pct'] or 0} %", help=f"{row['gpu_hours_allocated']:,} GPU-hours")
        d.metric("Active", f"{row['active_pct'] or 0} %", help=f"{row['gpu_hours_active'] or 0:,} GPU-hours")
    capacity_chart(where, "chart-cluster-capacity")
    _gpu_metrics(where)
    cost = data.rows(q.gpu_cost_by(["cluster"], where))
    if cost:
        st.caption(f"Cost per GPU-hour paid: {cost[0]['cost_per_gpu_hour']} {cost[0]['currency']} · "
                   f"per active GPU-hour: {cost[0]['cost_per_active_gpu_hour']} {cost[0]['currency']}")
    table(data.frame(q.gpu_cost_by(["team"], where)), "cluster_teams", "Teams on the cluster")
    _gpu_month_over_month(q.Slice.of(cluster=[cluster]), "cluster_gpu_month_over_month")
    st.subheader("Worst GPUs")
    from atlas_pipeline.dashboard.gpu import worst_gpus_section

    worst_gpus_section(where, "cluster")
    st.subheader("GPU-hours forecast")
    gpu_hours_forecast_chart([cluster], "chart-cluster-gpu-forecast")
