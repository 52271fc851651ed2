"""Commitments: utilization and coverage per reservation, savings plan and CUD; unused cost."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from atlas_pipeline.dashboard import data
from atlas_pipeline.dashboard.widgets import money, num, period_filter, plot, table
from atlas_pipeline.lib.report import report_queries as q


def render() -> None:
    st.title("Commitments")
    period = period_filter()
    providers = [str(p) for p in data.values(q.spend_options("provider_name"))]
    chosen = st.multiselect("Providers", providers, key="commit_providers", placeholder="all")
    where = q.Slice.of(period.start, period.end, provider_name=chosen)
    totals = data.rows(q.unused_commitment_total(where))[0]
    currency = totals["reporting_currency"] or ""
    a, b = st.columns(2)
    a.metric(f"Unused commitment cost ({currency})", money(totals["unused_cost"]),
             help="What commitments cost that no usage consumed (FOCUS CommitmentDiscountStatus = Unused).")
    b.metric(f"Commitment-covered usage ({currency})", money(totals["used_cost"]))
    st.caption(f"{period.label} (whole billing months). GCP's standard billing export does not attribute "
               "CUD fees to usage; CUDs appear when delivered as FOCUS exports.")

    st.subheader("Utilization per commitment")
    utilization = data.frame(q.commitment_utilization(where))
    if not utilization.empty:
        fig = go.Figure(go.Bar(x=[num(v) for v in utilization["utilization_pct"]],
                               y=[f"{t}: {n or i}" for t, n, i in zip(utilization["commitment_discount_type"],
                                                                      utilization["commitment_discount_name"],
                                                                      utilization["commitment_discount_id"],
                                                                      strict=True)],
                               orientation="h", name="utilization %"))
        fig.update_layout(title="Utilization (%): used / (used + unused) amortized cost", xaxis_range=[0, 100])
        plot(fig, "chart-commit-utilization", height=160 + 40 * len(utilization))
    table(utilization, "commitment_utilization")

    st.subheader("Coverage per commitment type")
    coverage = data.frame(q.commitment_coverage(where))
    if not coverage.empty:
        fig = go.Figure()
        for kind in sorted(set(coverage["commitment_discount_type"])):
            mine = coverage[coverage["commitment_discount_type"] == kind]
            fig.add_trace(go.Bar(x=mine["provider_name"], y=[num(v) for v in mine["coverage_pct"]], name=kind))
        fig.update_layout(barmode="stack", title="Share of eligible usage (on-demand equivalent) by what covered it",
                          yaxis_title="%")
        plot(fig, "chart-commit-coverage")
    table(coverage, "commitment_coverage", "Eligible usage: the services a commitment covered; ListCost terms")
