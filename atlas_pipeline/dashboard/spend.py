"""Spend: by provider, account, service, region and team; billed vs effective; month over month;
drill-down to resources."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from atlas_pipeline.dashboard import data
from atlas_pipeline.dashboard.widgets import Period, change, money, num, page_link, period_filter, plot, table
from atlas_pipeline.lib.report import report_queries as q

# Filters on this page: label -> rpt_spend_* column (and the URL parameter).
FILTERS = {"provider": "provider_name", "team": "team", "billing account": "billing_account_id",
           "service": "service_name", "region": "region_id"}


def _param_name(label: str) -> str:
    return label.replace(" ", "_")


def spend_filters() -> dict[str, list[str]]:
    """Multiselects for the spend dimensions, kept in the URL (`?provider=Microsoft&team=web`)."""
    chosen: dict[str, list[str]] = {}
    columns = st.columns(len(FILTERS))
    for (label, column), slot in zip(FILTERS.items(), columns, strict=True):
        options = [str(v) for v in data.values(q.spend_options(column))]
        key = f"filter_{column}"
        if key not in st.session_state:
            st.session_state[key] = [v for v in st.query_params.get_all(_param_name(label)) if v in options]
        chosen[column] = slot.multiselect(label.capitalize(), options, key=key, placeholder="all")
        st.query_params[_param_name(label)] = chosen[column]
    return chosen


def mom_metric(where: q.Slice, period: Period) -> None:
    """Effective cost of the period's month (or the selection's last complete month) against the
    month before, for the same filters."""
    months = data.rows(q.spend_monthly(where))
    months = [m for m in months if m["effective_cost"] or m["effective_cost_previous_month"]]
    if period.month is None:
        complete = [m for m in months if m["is_complete_month"]]
        months = complete or months
    if not months:
        st.metric("Month over month", "–")
        return
    last = months[-1]
    label = f"Effective cost {last['billing_month']:%Y-%m} vs month before"
    st.metric(label, money(last["effective_cost"], last["reporting_currency"]),
              change(last["effective_cost"], last["effective_cost_previous_month"]), delta_color="inverse",
              help="Same filters, the month before. Negative is a saving.")


def render() -> None:
    st.title("Spend")
    period = period_filter()
    chosen = spend_filters()
    where = q.Slice.of(period.start, period.end, **chosen)

    totals = data.rows(q.spend_totals(where))[0]
    currency = totals["reporting_currency"] or ""
    left, middle, right = st.columns(3)
    left.metric(f"Effective cost ({currency})", money(totals["effective_cost"]),
                help="Amortized: commitments spread over the usage they cover (FOCUS EffectiveCost).")
    middle.metric(f"Billed cost ({currency})", money(totals["billed_cost"]),
                  help="As invoiced: upfront purchases on the day they were bought (FOCUS BilledCost).")
    with right:
        mom_metric(where, period)
    st.caption(f"{period.label} · reporting currency {currency} (each billing period at its FX rate) · "
               "filters: " + (", ".join(f"{k}: {', '.join(v)}" for k, v in chosen.items() if v) or "none"))

    over_time, breakdown, monthly, resources = st.tabs(["Over time", "Breakdown", "Month over month", "Resources"])
    with over_time:
        a, b, c = st.columns(3)
        measure = a.radio("Measure", ["effective_cost", "billed_cost"], horizontal=True, key="spend_measure",
                          format_func=lambda m: m.split("_")[0])
        by_label = b.selectbox("Colour by", list(q.SPEND_DIMENSIONS), key="spend_colour")
        trend = c.checkbox("Leave out credits and one-off purchases", value=True, key="spend_trend",
                           help="Lumps such as an upfront reservation flatten every other day.")
        column = q.SPEND_DIMENSIONS[by_label]
        daily = data.rows(q.spend_daily(where, column, trend_only=trend))
        fig = go.Figure()
        for key in sorted({str(r[column]) for r in daily}):
            mine = [r for r in daily if str(r[column]) == key]
            fig.add_trace(go.Bar(x=[r["charge_date"] for r in mine], y=[num(r[measure]) for r in mine], name=key))
        fig.update_layout(barmode="relative", title=f"Daily {measure.split('_')[0]} cost ({currency}) by {by_label}",
                          yaxis_title=currency)
        plot(fig, "chart-spend-daily")
    with breakdown:
        by_label = st.selectbox("Group by", list(q.SPEND_DIMENSIONS), key="spend_group")
        column = q.SPEND_DIMENSIONS[by_label]
        frame = data.frame(q.spend_by(column, where))
        config = {}
        if column in ("team", "provider_name") and not frame.empty:
            page, param = ("team", "team") if column == "team" else ("provider", "provider")
            frame.insert(1, "page", [page_link(page, param, str(v)) for v in frame[column]])
            config["page"] = st.column_config.LinkColumn("page", display_text="open")
        table(frame, f"spend_by_{column}", f"Billed and effective cost by {by_label} ({currency})", **config)
    with monthly:
        by_label = st.selectbox("Per", ["(total)", *q.SPEND_DIMENSIONS], key="spend_monthly_by")
        column = None if by_label == "(total)" else q.SPEND_DIMENSIONS[by_label]
        table(data.frame(q.spend_monthly(where, column)), "spend_monthly",
              "Each month against the month before, same filters (a month still filling is marked incomplete)")
    with resources:
        table(data.frame(q.spend_resources(where)), "spend_resources",
              "The costliest resources of the selection (whole billing months); '(no resource)' gathers tax, "
              "credits, support and purchases. Narrow with the filters above.")
