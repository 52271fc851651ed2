"""The Atlas overview: one self-contained, offline HTML page that tells the estate's story at a glance.

Every number on the page is the result of a SQL query on the marts (DuckDB does the sums and the
rounding; Python only formats and lays out). Charts are Plotly figures with plotly.js inlined once
in the page, so the file opens without network. Tables carry each money value in a `data-value`
attribute (the exact decimal the SQL returned) beside the formatted text.

Optional tables (`main.budget_status`, `main.cost_anomalies`) are read when they exist; otherwise
the section says so instead of failing.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from atlas_pipeline.lib.warehouse import relation_exists

# Same charge categories the forecast leaves out (lumps, not spend patterns), so the actuals drawn
# under the forecast are the series it modelled (atlas_pipeline/defs/forecast/assets.py).
FORECAST_EXCLUDED_CHARGE_CATEGORIES = ("Credit", "Purchase")
STAGES = ("ingest", "staging", "intermediate", "marts", "forecasts", "reports")
TOP_N = 10
FORECAST_HISTORY_DAYS = 42

# --- SQL: every figure and number on the page -----------------------------------------------------------

SQL_PERIOD = "select min(charge_date), max(charge_date), count(distinct provider_name) from main.fct_cost_daily"

SQL_PROVIDER_TOTALS = """
select provider_name, billing_currency,
       round(sum(billed_cost), 2) as billed_cost,
       round(sum(effective_cost), 2) as effective_cost,
       reporting_currency,
       round(sum(effective_cost_reporting), 2) as effective_cost_reporting
from main.fct_cost_daily
group by all
order by effective_cost_reporting desc, provider_name, billing_currency
"""

# In the reporting currency: the one currency in which providers can be drawn on one axis.
SQL_SPEND_DAILY = """
select charge_date, provider_name, reporting_currency,
       round(sum(billed_cost_reporting), 2) as billed_cost,
       round(sum(effective_cost_reporting), 2) as effective_cost
from main.fct_cost_daily
group by all
order by charge_date, provider_name
"""

SQL_SPEND_MONTHLY = """
select cast(date_trunc('month', charge_date) as date) as billing_month, provider_name, reporting_currency,
       round(sum(billed_cost_reporting), 2) as billed_cost,
       round(sum(effective_cost_reporting), 2) as effective_cost
from main.fct_cost_daily
group by all
order by billing_month, provider_name
"""

SQL_TOP_SERVICES = f"""
select provider_name, service_name, reporting_currency,
       round(sum(effective_cost_reporting), 2) as effective_cost
from main.fct_cost_daily
group by all
order by effective_cost desc, provider_name, service_name
limit {TOP_N}
"""

SQL_TOP_TEAMS = f"""
select team, reporting_currency, round(sum(effective_cost_reporting), 2) as effective_cost
from main.cost_by_team_monthly
group by all
order by effective_cost desc, team
limit {TOP_N}
"""

# Each provider's newest forecast.
_LATEST_PROVIDER_FORECAST = """
with latest as (
    select series_dimension, series_key, max(as_of_date) as as_of_date
    from main.forecast_cost_daily
    where series_dimension = 'provider'
    group by all
)
"""

SQL_FORECAST = _LATEST_PROVIDER_FORECAST + """
select f.series_key, f.billing_currency, f.as_of_date, f.forecast_date,
       round(f.point, 2) as point,
       round(f.lower_80, 2) as lower_80, round(f.upper_80, 2) as upper_80,
       round(f.lower_95, 2) as lower_95, round(f.upper_95, 2) as upper_95
from main.forecast_cost_daily f
join latest using (series_dimension, series_key, as_of_date)
order by f.series_key, f.forecast_date
"""

SQL_FORECAST_SUMMARY = _LATEST_PROVIDER_FORECAST + """
select f.series_key, f.billing_currency, f.as_of_date, any_value(r.model_name) as model_name,
       min(f.forecast_date) as first_day, max(f.forecast_date) as last_day,
       round(sum(f.point), 2) as point_total
from main.forecast_cost_daily f
join latest using (series_dimension, series_key, as_of_date)
left join main.forecast_runs r using (series_dimension, series_key, as_of_date)
group by all
order by f.series_key
"""

SQL_FORECAST_ACTUALS = """
select charge_date, provider_name, billing_currency, round(sum(effective_cost), 2) as effective_cost
from main.fct_cost_daily
where coalesce(charge_category, '') not in ({excluded})
  and charge_date >= ? and charge_date < ?
group by all
order by provider_name, charge_date
"""

SQL_GPU_HEATMAP = """
select hostname, usage_date, round(100 * avg(mean_activity), 1) as utilization_pct
from main.fct_gpu_usage_hourly
group by all
order by hostname, usage_date
"""

# Used, idle and unmeasured (jobs on GPUs without telemetry) as defined once, in the view.
SQL_GPU_TEAM_COST = """
select team, currency,
       round(sum(used_cost), 2) as used_cost,
       round(sum(idle_cost), 2) as idle_cost,
       round(sum(unmeasured_cost), 2) as unmeasured_cost,
       round(sum(paid_cost), 2) as paid_cost
from main.gpu_idle_cost_daily
group by all
order by paid_cost desc, team
"""

SQL_WORST_GPUS = f"""
select hostname, gpu_index, any_value(gpu_model) as gpu_model,
       count(*) filter (where health_status = 'failed') as failed_days,
       count(*) filter (where health_status = 'degraded') as degraded_days,
       sum(xid_fatal_errors) as xid_fatal_errors,
       sum(straggler_episodes) as straggler_episodes,
       sum(thermal_throttle_episodes) as thermal_throttle_episodes,
       sum(power_throttle_episodes) as power_throttle_episodes,
       round(min(sm_clock_vs_baseline), 3) as worst_clock_vs_baseline
from main.fct_gpu_health_daily
group by hostname, gpu_index
having count(*) filter (where health_status <> 'healthy') > 0
order by failed_days desc, degraded_days desc, xid_fatal_errors desc, straggler_episodes desc, hostname, gpu_index
limit {TOP_N}
"""

REPORT_ASSETS = ("atlas_overview", "data_quality_summary")


def stage_of_asset(asset_key: str) -> str:
    """The stage (Dagster group) of an asset from its key, by the project's naming convention:
    `raw/<source>` ingest, `stg_*` staging, `int_*` intermediate, `forecast_*` forecasts."""
    if asset_key in REPORT_ASSETS:
        return "reports"
    for prefix, stage in (("raw/", "ingest"), ("stg_", "staging"), ("int_", "intermediate"), ("forecast", "forecasts")):
        if asset_key.startswith(prefix):
            return stage
    return "marts"


# Stage of an asset in the quality summary, by its key: `stage_of_asset` in SQL.
SQL_QUALITY_BY_STAGE = r"""
select
    case
        when asset_key like 'raw/%' then 'ingest'
        when asset_key like 'stg\_%' escape '\' then 'staging'
        when asset_key like 'int\_%' escape '\' then 'intermediate'
        when asset_key like 'forecast%' then 'forecasts'
        else 'marts'
    end as stage,
    count(distinct asset_key) as assets,
    sum(checks_run) as checks_run,
    sum(checks_passed) as checks_passed,
    sum(checks_failed) as checks_failed,
    sum(checks_warned) as checks_warned,
    sum(files_quarantined) as files_quarantined,
    sum(rows_quarantined) as rows_quarantined,
    max(last_checked_at) as last_checked_at
from main.data_quality_summary
group by 1
"""

SQL_LAST_LANDED = "select max(landed_at) from landing.manifest where status = 'landed'"


# --- helpers -------------------------------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _num(value: Any) -> float | None:
    """For plotting only: the chart libraries take floats; the tables show the exact decimals."""
    return None if value is None else float(value)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value.as_tuple().exponent <= -2 else f"{value:,}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    css = "num" if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else ""
    data = f' data-value="{html.escape(str(value))}"' if isinstance(value, Decimal) else ""
    return f'<td class="{css}"{data}>{html.escape(_fmt(value))}</td>'


def html_table(rows: Sequence[Mapping[str, Any]], table_id: str, columns: Sequence[str] | None = None) -> str:
    """A plain HTML table; money cells keep their exact decimal in `data-value`."""
    if not rows:
        return f'<p class="empty" id="{table_id}">No rows.</p>'
    columns = list(columns or rows[0].keys())
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join(
        f'<tr data-key="{html.escape(str(row[columns[0]]))}">' + "".join(_cell(row[c]) for c in columns) + "</tr>"
        for row in rows
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _figure_html(fig: go.Figure, div_id: str, height: int = 360) -> str:
    fig.update_layout(
        height=height,
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.15},
    )
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,  # inlined once in <head>
        div_id=div_id,
        config={"displaylogo": False, "responsive": True, "displayModeBar": False},
    )


@dataclass
class Section:
    """One block of the page: a heading, optional charts and tables, and what it reports as metadata."""

    key: str
    title: str
    parts: list[str] = field(default_factory=list)
    note: str | None = None

    def html(self) -> str:
        note = f'<p class="note">{html.escape(self.note)}</p>' if self.note else ""
        return f'<section id="{self.key}"><h2>{html.escape(self.title)}</h2>{note}{"".join(self.parts)}</section>'


# --- sections ------------------------------------------------------------------------------------------


def _spend_section(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("spend", "Spend by provider")
    totals = _rows(con, SQL_PROVIDER_TOTALS)
    daily = _rows(con, SQL_SPEND_DAILY)
    currency = daily[0]["reporting_currency"] if daily else ""
    fig = go.Figure()
    for provider in sorted({r["provider_name"] for r in daily}):
        series = [r for r in daily if r["provider_name"] == provider]
        days = [r["charge_date"] for r in series]
        fig.add_trace(go.Scatter(x=days, y=[_num(r["effective_cost"]) for r in series], name=f"{provider} effective",
                                 mode="lines", legendgroup=provider))
        fig.add_trace(go.Scatter(x=days, y=[_num(r["billed_cost"]) for r in series], name=f"{provider} billed",
                                 mode="lines", line={"dash": "dot", "width": 1}, legendgroup=provider))
    fig.update_layout(title=f"Daily spend ({currency}): effective (solid) and billed (dotted)", yaxis_title=currency)
    monthly = _rows(con, SQL_SPEND_MONTHLY)
    bars = go.Figure()
    months = sorted({r["billing_month"] for r in monthly})
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
    for i, provider in enumerate(sorted({r["provider_name"] for r in monthly})):
        by_month = {r["billing_month"]: r for r in monthly if r["provider_name"] == provider}
        for measure, pattern in (("billed_cost", "/"), ("effective_cost", "")):
            bars.add_trace(go.Bar(x=[m.strftime("%Y-%m") for m in months],
                                  y=[_num(by_month[m][measure]) if m in by_month else None for m in months],
                                  name=f"{provider} {measure.split('_')[0]}", offsetgroup=f"{provider}-{measure}",
                                  legendgroup=provider, marker_pattern_shape=pattern,
                                  marker_color=palette[i % len(palette)]))
    bars.update_layout(title=f"Monthly spend ({currency}) per provider: billed (hatched) vs effective", barmode="group",
                       yaxis_title=currency, xaxis_type="category")
    section.parts.append(_figure_html(bars, "chart-spend-monthly", height=320))
    section.parts.append(_figure_html(fig, "chart-spend-daily", height=320))
    section.parts.append("<h3>Totals over the period, in billing currency</h3>")
    section.parts.append(html_table(totals, "table-provider-totals"))
    return section


def _top_section(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("top", "Top services and teams (effective cost, reporting currency)")
    services = _rows(con, SQL_TOP_SERVICES)
    teams = _rows(con, SQL_TOP_TEAMS)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Services", "Teams"), horizontal_spacing=0.25)
    fig.add_trace(go.Bar(y=[f"{r['service_name']} ({r['provider_name']})" for r in services][::-1],
                         x=[_num(r["effective_cost"]) for r in services][::-1], orientation="h", name="services"), 1, 1)
    fig.add_trace(go.Bar(y=[r["team"] for r in teams][::-1], x=[_num(r["effective_cost"]) for r in teams][::-1],
                         orientation="h", name="teams"), 1, 2)
    fig.update_layout(showlegend=False)
    section.parts.append(_figure_html(fig, "chart-top", height=420))
    section.parts.append('<div class="two">' + html_table(services, "table-top-services")
                         + html_table(teams, "table-top-teams") + "</div>")
    return section


SQL_BUDGETS = """
select budget_name, scope, scope_value, billing_currency, budget_month, as_of_date,
       round(budget_amount, 2) as budget_amount, round(actual_to_date, 2) as actual_to_date,
       round(projected_month_end, 2) as projected_month_end,
       round(projected_month_end_upper_80, 2) as projected_month_end_upper_80,
       round(overrun_probability, 3) as overrun_probability, already_over, projected_over
from main.budget_status
order by budget_month desc, budget_name
"""

SQL_ANOMALIES = """
select usage_date, series_dimension, series_key, billing_currency, round(actual_cost, 2) as actual_cost,
       round(expected_cost, 2) as expected_cost, round(impact, 2) as impact, severity,
       explained_by_dimension, explained_by_value, round(explained_by_impact, 2) as explained_by_impact
from main.cost_anomalies
order by usage_date desc, abs(impact) desc
"""


def _budget_section(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("budgets", "Month to date vs budget")
    if not relation_exists(con, "main", "budget_status"):
        section.note = "No budgets declared yet (main.budget_status does not exist)."
        return section
    rows = _rows(con, SQL_BUDGETS)
    if not rows:
        section.note = "No budgets declared yet (main.budget_status is empty)."
        section.parts.append(html_table(rows, "table-budgets"))
        return section
    names = [r["budget_name"] for r in rows]
    fig = go.Figure()
    for column, label, color in (("actual_to_date", "actual to date", "rgb(31,119,180)"),
                                 ("projected_month_end", "projected month end", "rgba(31,119,180,0.45)"),
                                 ("budget_amount", "budget", "rgb(120,120,120)")):
        fig.add_trace(go.Bar(y=names, x=[_num(r[column]) for r in rows], name=label, orientation="h",
                             marker={"color": color}))
    fig.update_layout(barmode="group", yaxis={"autorange": "reversed"})
    section.parts.append(_figure_html(fig, "chart-budgets", height=120 + 70 * len(rows)))
    section.parts.append(html_table(rows, "table-budgets"))
    return section


def _anomalies(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Rows of main.cost_anomalies (empty when anomaly detection has not run)."""
    if not relation_exists(con, "main", "cost_anomalies"):
        return []
    return _rows(con, SQL_ANOMALIES)


def _forecast_section(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("forecast", "Forecast (effective cost per provider, 80 % and 95 % intervals)")
    if not relation_exists(con, "main", "forecast_cost_daily"):
        section.note = "No forecast yet (main.forecast_cost_daily does not exist): run the forecast job."
        return section
    forecast = _rows(con, SQL_FORECAST)
    summary = _rows(con, SQL_FORECAST_SUMMARY)
    anomalies = _anomalies(con)
    if not forecast:
        section.note = "No provider forecast yet."
        return section
    first = min(r["as_of_date"] for r in forecast)
    start = first - timedelta(days=FORECAST_HISTORY_DAYS)
    excluded = ", ".join(f"'{c}'" for c in FORECAST_EXCLUDED_CHARGE_CATEGORIES)
    actuals = _rows(con, SQL_FORECAST_ACTUALS.format(excluded=excluded),
                    [start, max(r["forecast_date"] for r in forecast) + timedelta(days=1)])
    providers = sorted({r["series_key"] for r in forecast})
    fig = make_subplots(rows=len(providers), cols=1, shared_xaxes=True, subplot_titles=providers,
                        vertical_spacing=0.08)
    for i, provider in enumerate(providers, start=1):
        rows = [r for r in forecast if r["series_key"] == provider]
        days = [r["forecast_date"] for r in rows]
        legend = i == 1
        for low, high, name, color in (("lower_95", "upper_95", "95 % interval", "rgba(31,119,180,0.15)"),
                                       ("lower_80", "upper_80", "80 % interval", "rgba(31,119,180,0.30)")):
            band = [_num(r[high]) for r in rows] + [_num(r[low]) for r in rows][::-1]
            fig.add_trace(go.Scatter(x=days + days[::-1], y=band,
                                     fill="toself", fillcolor=color, line={"width": 0}, name=name, legendgroup=name,
                                     showlegend=legend, hoverinfo="skip"), i, 1)
        fig.add_trace(go.Scatter(x=days, y=[_num(r["point"]) for r in rows], name="forecast", legendgroup="forecast",
                                 line={"color": "rgb(31,119,180)"}, showlegend=legend), i, 1)
        history = [r for r in actuals if r["provider_name"] == provider]
        fig.add_trace(go.Scatter(x=[r["charge_date"] for r in history], y=[_num(r["effective_cost"]) for r in history],
                                 name="actual", legendgroup="actual", line={"color": "black", "width": 1},
                                 showlegend=legend), i, 1)
        marked = [a for a in anomalies if a["series_dimension"] == "provider" and a["series_key"] == provider]
        if marked:
            fig.add_trace(go.Scatter(x=[a["usage_date"] for a in marked], y=[_num(a["actual_cost"]) for a in marked],
                                     mode="markers", name="anomaly", legendgroup="anomaly",
                                     marker={"color": "red", "size": 10, "symbol": "x"}, showlegend=legend), i, 1)
    section.parts.append(_figure_html(fig, "chart-forecast", height=260 * len(providers)))
    section.parts.append(html_table(summary, "table-forecast"))
    if anomalies:
        section.parts.append("<h3>Cost anomalies</h3>" + html_table(anomalies[:TOP_N * 2], "table-anomalies"))
    elif relation_exists(con, "main", "cost_anomalies"):
        section.parts.append('<p class="note">No cost anomalies detected.</p>')
    else:
        section.parts.append('<p class="note">Anomaly detection has not run yet (main.cost_anomalies does not exist).</p>')
    return section


def _gpu_section(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("gpu", "GPU fleet")
    if not relation_exists(con, "main", "fct_gpu_usage_hourly"):
        section.note = "No GPU telemetry in the warehouse."
        return section
    heat = _rows(con, SQL_GPU_HEATMAP)
    hosts = sorted({r["hostname"] for r in heat})
    days = sorted({r["usage_date"] for r in heat})
    cell = {(r["hostname"], r["usage_date"]): _num(r["utilization_pct"]) for r in heat}
    fig = go.Figure(go.Heatmap(z=[[cell.get((h, d)) for d in days] for h in hosts], x=days, y=hosts,
                               colorscale="Viridis", zmin=0, zmax=100, colorbar={"title": "% active"}))
    fig.update_layout(title="GPU utilization (mean activity, %) by host and day")
    section.parts.append(_figure_html(fig, "chart-gpu-heatmap", height=max(300, 28 * len(hosts) + 120)))

    teams = _rows(con, SQL_GPU_TEAM_COST)
    fig = go.Figure()
    labels = [f"{r['team']} ({r['currency']})" for r in teams]
    fig.add_trace(go.Bar(x=labels, y=[_num(r["used_cost"]) for r in teams], name="used"))
    fig.add_trace(go.Bar(x=labels, y=[_num(r["idle_cost"]) for r in teams], name="idle"))
    fig.add_trace(go.Bar(x=labels, y=[_num(r["unmeasured_cost"]) for r in teams], name="unmeasured (no telemetry)"))
    fig.update_layout(barmode="stack", title="GPU cost per team: used vs idle (idle = allocated unused + unallocated)")
    section.parts.append(_figure_html(fig, "chart-gpu-team-cost"))
    section.parts.append(html_table(teams, "table-gpu-team-cost"))
    section.parts.append("<h3>Worst GPUs (fct_gpu_health_daily)</h3>")
    section.parts.append(html_table(_rows(con, SQL_WORST_GPUS), "table-worst-gpus"))
    return section


def _quality_section(con: duckdb.DuckDBPyConnection, last_loads: Mapping[str, datetime] | None) -> Section:
    section = Section("quality", "Data quality per stage")
    by_stage: dict[str, dict[str, Any]] = {}
    if relation_exists(con, "main", "data_quality_summary"):
        by_stage = {r["stage"]: r for r in _rows(con, SQL_QUALITY_BY_STAGE)}
    loads = dict(last_loads or {})
    if "ingest" not in loads and relation_exists(con, "landing", "manifest"):
        loads["ingest"] = con.execute(SQL_LAST_LANDED).fetchone()[0]
    rows = []
    for stage in STAGES:
        found = by_stage.get(stage)
        if found is None and stage not in loads:
            continue
        found = found or {}
        failed, warned = found.get("checks_failed") or 0, found.get("checks_warned") or 0
        status = "failing" if failed else ("warnings" if warned or found.get("files_quarantined") else "ok")
        if not found:
            status = "no checks"
        rows.append({
            "stage": stage,
            "status": status,
            "checks_run": found.get("checks_run", 0),
            "checks_passed": found.get("checks_passed", 0),
            "checks_failed": failed,
            "checks_warned": warned,
            "files_quarantined": found.get("files_quarantined", 0),
            "rows_quarantined": found.get("rows_quarantined", 0),
            "last_successful_load": loads.get(stage),
        })
    if not rows:
        section.note = "No quality results yet."
    section.parts.append(html_table(rows, "table-quality"))
    return section


# --- the page ------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1c2430}
header{background:#1c2430;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c8d0dc;font-size:13px}
main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border-radius:6px;padding:12px 18px;margin:16px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:18px;margin:6px 0 10px}h3{font-size:14px;margin:14px 0 6px}
table{border-collapse:collapse;font-size:12px;margin:6px 0}th,td{padding:3px 8px;border-bottom:1px solid #e3e6ea}
th{text-align:left;background:#f0f2f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.two{display:flex;gap:28px;flex-wrap:wrap}.note{color:#5a6472;font-style:italic}
#script-errors{background:#b00020;color:#fff;padding:8px 28px}
"""

# Shows any script error on the page itself (and the browser test looks for it).
_ERROR_HOOK = """
window.atlasScriptErrors = [];
window.addEventListener('error', function (e) {
  window.atlasScriptErrors.push(String(e.message));
  var banner = document.getElementById('script-errors');
  if (banner) { banner.hidden = false; banner.textContent = 'Script error: ' + window.atlasScriptErrors.join('; '); }
});
"""


@dataclass(frozen=True)
class OverviewReport:
    """The rendered page and a few facts about it (for the asset's metadata)."""

    html: str
    period_start: date | None
    period_end: date | None
    sections: tuple[str, ...]
    charts: int


def build_overview(
    con: duckdb.DuckDBPyConnection, generated_at: datetime, last_loads: Mapping[str, datetime] | None = None
) -> OverviewReport:
    """Query the marts and render the overview page (plotly.js inlined: the file works offline).

    `last_loads` maps a stage to the time its assets last materialized successfully (from Dagster);
    without it the ingest stage falls back to the last landed delivery.
    """
    start, end, _ = con.execute(SQL_PERIOD).fetchone()
    sections = [
        _spend_section(con),
        _top_section(con),
        _budget_section(con),
        _forecast_section(con),
        _gpu_section(con),
        _quality_section(con, last_loads),
    ]
    body = "".join(s.html() for s in sections)
    charts = body.count('class="plotly-graph-div"')
    period = f"{start} to {end}" if start else "no cost data yet"
    page = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>Atlas overview</title>"
        f"<style>{_CSS}</style><script>{_ERROR_HOOK}</script>"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
        "<div id=\"script-errors\" hidden></div>"
        f"<header><h1>Atlas overview</h1><p>Costs from <span id=\"period\">{html.escape(period)}</span> · generated "
        f"{generated_at.strftime('%Y-%m-%d %H:%M UTC')} · every number is SQL on the marts</p></header>"
        f"<main>{body}</main></body></html>"
    )
    return OverviewReport(
        html=page, period_start=start, period_end=end, sections=tuple(s.key for s in sections), charts=charts
    )


def write_overview(report: OverviewReport, path: Path) -> Path:
    """Write the page atomically: a browser that has the old file open never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(report.html, encoding="utf-8")
    os.replace(partial, path)
    return path
