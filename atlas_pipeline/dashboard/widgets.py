"""Shared pieces of the dashboard's pages: the period filter, money, tables with CSV, charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from atlas_pipeline.dashboard import data
from atlas_pipeline.lib.report import report_queries as q

ALL = "All data"
CUSTOM = "Custom range"


@dataclass(frozen=True)
class Period:
    """The period the reader chose: [start, end), a label, and the month when it is one month."""

    start: date | None
    end: date | None
    label: str
    month: date | None = None


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _param(name: str) -> str | None:
    found = st.query_params.get(name)
    return found if found else None


def period_filter() -> Period:
    """The sidebar's period: all data, one billing month, or a custom date range (`?month=YYYY-MM`
    in the URL selects a month)."""
    months = [m.strftime("%Y-%m") for m in sorted(data.values(q.spend_options("billing_month")), reverse=True)]
    options = [ALL, *months, CUSTOM]
    if "period" not in st.session_state:
        wanted = _param("month")
        st.session_state["period"] = wanted if wanted in options else ALL
    choice = st.sidebar.selectbox("Period", options, key="period", help="A billing month, all data or a date range.")
    if choice in months:
        st.query_params["month"] = choice
    else:
        st.query_params.pop("month", None)
    if choice == ALL:
        return Period(None, None, "all data")
    if choice == CUSTOM:
        bounds = data.rows(q.spend_period())
        first, last = (bounds[0]["first_day"], bounds[0]["last_day"]) if bounds and bounds[0]["first_day"] else (
            date.today(), date.today())
        picked = st.sidebar.date_input("From – to (inclusive)", value=(first, last), min_value=first,
                                       max_value=last, key="period_range")
        start, end = (picked if isinstance(picked, tuple) and len(picked) == 2 else (first, last))
        return Period(start, end + timedelta(days=1), f"{start} to {end}")
    month = date.fromisoformat(choice + "-01")
    return Period(month, _next_month(month), choice, month)


def entity_select(label: str, options: list[str], param: str, key: str) -> str | None:
    """A selectbox for the page's team / provider / cluster, kept in the URL (`?team=web`) so each
    one has its own address."""
    if not options:
        return None
    if key not in st.session_state:
        wanted = _param(param)
        st.session_state[key] = wanted if wanted in options else options[0]
    chosen = st.selectbox(label, options, key=key)
    st.query_params[param] = chosen
    return chosen


def gpu_month_select(key: str) -> date | None:
    """A month of GPU cost to compare with the month before; the newest complete month first."""
    months = data.rows(q.gpu_months())
    if not months:
        return None
    labels = [m["value"].strftime("%Y-%m") + ("" if m["is_complete_month"] else " (to date)") for m in months]
    default = next((i for i, m in enumerate(months) if m["is_complete_month"]), 0)
    picked = st.selectbox("Month", labels, index=default, key=key)
    return months[labels.index(picked)]["value"]


def money(value: Any, currency: str | None = "") -> str:
    """A money value as SQL returned it (already rounded to the cent), with thousands separators."""
    if value is None:
        return "–"
    text = f"{Decimal(value):,.2f}"
    return f"{text} {currency}".strip() if currency else text


def change(current: Any, previous: Any) -> str | None:
    """Month-over-month delta text for st.metric ('+1,234.56 (+12.3 %)')."""
    if current is None or previous is None:
        return None
    diff = Decimal(current) - Decimal(previous)
    pct = f" ({diff / Decimal(previous) * 100:+.1f} %)" if previous else ""
    return f"{diff:+,.2f}{pct}"


def table(frame: pd.DataFrame, name: str, caption: str | None = None, **column_config: Any) -> None:
    """A table with its CSV download (the exact values the SQL returned)."""
    if caption:
        st.caption(caption)
    if frame.empty:
        st.info("No rows for this selection.")
        return
    # Money (DECIMAL from SQL, rounded to the cent) shows its two decimals; other numbers as they are.
    for column in frame.columns:
        first = frame[column].dropna()
        if column not in column_config and len(first) and isinstance(first.iloc[0], Decimal):
            column_config[column] = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config or None, key=f"table-{name}")
    st.download_button(
        "Download CSV", frame.to_csv(index=False).encode("utf-8"), file_name=f"{name}.csv", mime="text/csv",
        key=f"csv-{name}",
    )


def plot(fig: go.Figure, key: str, height: int = 360) -> None:
    fig.update_layout(height=height, margin={"l": 50, "r": 20, "t": 50, "b": 40}, template="plotly_white",
                      legend={"orientation": "h", "y": -0.2})
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


def num(value: Any) -> float | None:
    """For plotting only: chart libraries take floats; tables and figures show the exact decimals."""
    return None if value is None else float(value)


def page_link(page: str, param: str, value: str) -> str:
    """A relative link to an entity page (`team?team=web`)."""
    from urllib.parse import urlencode

    return f"{page}?{urlencode({param: value})}"


def budget_chart(budgets: list[dict[str, Any]], key: str) -> None:
    """Each budget once: actual to date, projected month end and the budget, side by side."""
    if not budgets:
        st.info("No budget status yet: no budgets declared (assets/budgets.yaml), or the forecast job has not run.")
        return
    names = [f"{b['budget_name']} ({b['billing_currency']})" for b in budgets]
    fig = go.Figure()
    for column, label, color in (("actual_to_date", "actual to date", "rgb(31,119,180)"),
                                 ("projected_month_end", "projected month end", "rgba(31,119,180,0.45)"),
                                 ("budget_amount", "budget", "rgb(120,120,120)")):
        fig.add_trace(go.Bar(y=names, x=[num(b[column]) for b in budgets], name=label, orientation="h",
                             marker={"color": color}))
    as_of = budgets[0]["as_of_date"]
    fig.update_layout(barmode="group", yaxis={"autorange": "reversed"},
                      title=f"Budgets, {budgets[0]['budget_month']:%Y-%m} as of {as_of}")
    plot(fig, key, height=140 + 70 * len(budgets))
