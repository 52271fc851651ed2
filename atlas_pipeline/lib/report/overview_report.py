"""The Atlas overview: one self-contained, offline HTML page that tells the estate's story at a glance,
for sharing (the interactive dashboard, `atlas dashboard`, is where people explore).

Every number on the page is the result of a SQL query on the rpt_* report models (the same slices
of them the dashboard uses, `atlas_pipeline.lib.report.report_queries`; DuckDB does the sums and the
rounding; Python only formats and lays out). Charts are Plotly figures with plotly.js inlined once
in the page, so the file opens without network. Tables carry each money value in a `data-value`
attribute (the exact decimal the SQL returned) beside the formatted text.

Before the forecast stage has run, its report models are empty and the sections say so.
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

from atlas_pipeline.lib.report import report_queries as q

STAGES = ("ingest", "staging", "intermediate", "marts", "forecasts", "reports")
TOP_N = q.TOP_N
FORECAST_HISTORY_DAYS = 42

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


# --- helpers -------------------------------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, query: q.Query) -> list[dict[str, Any]]:
    return q.rows(con, query)


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
    totals = _rows(con, q.spend_by_provider_currency())
    # The daily chart leaves credits and one-off purchases out: a single upfront purchase would
    # flatten every other day (they are in the totals and the monthly bars).
    daily = _rows(con, q.spend_daily(q.Slice(), "provider_name", trend_only=True))
    currency = daily[0]["reporting_currency"] if daily else ""
    fig = go.Figure()
    for provider in sorted({r["provider_name"] for r in daily}):
        series = [r for r in daily if r["provider_name"] == provider]
        days = [r["charge_date"] for r in series]
        fig.add_trace(go.Scatter(x=days, y=[_num(r["effective_cost"]) for r in series], name=f"{provider} effective",
                                 mode="lines", legendgroup=provider))
        fig.add_trace(go.Scatter(x=days, y=[_num(r["billed_cost"]) for r in series], name=f"{provider} billed",
                                 mode="lines", line={"dash": "dot", "width": 1}, legendgroup=provider))
    fig.update_layout(title=f"Daily spend ({currency}): effective (solid) and billed (dotted), "
                      "credits and one-off purchases left out", yaxis_title=currency)
    monthly = _rows(con, q.spend_monthly(q.Slice(), "provider_name"))
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
    services = _rows(con, q.spend_by("service_name", q.Slice(), limit=TOP_N))
    teams = _rows(con, q.spend_by("team", q.Slice(), limit=TOP_N))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Services", "Teams"), horizontal_spacing=0.25)
    fig.add_trace(go.Bar(y=[r["service_name"] for r in services][::-1],
                         x=[_num(r["effective_cost"]) for r in services][::-1], orientation="h", name="services"), 1, 1)
    fig.add_trace(go.Bar(y=[r["team"] for r in teams][::-1], x=[_num(r["effective_cost"]) for r in teams][::-1],
                         orientation="h", name="teams"), 1, 2)
    fig.update_layout(showlegend=False)
    section.parts.append(_figure_html(fig, "chart-top", height=420))
    section.parts.append('<div class="two">' + html_table(services, "table-top-services")
                         + html_table(teams, "table-top-teams") + "</div>")
    return section


def _budget_section(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("budgets", "Month to date vs budget")
    rows = _rows(con, q.budgets())
    if not rows:
        section.note = "No budget status yet: no budgets declared, or the forecast job has not run."
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
    """Cost anomalies (none when anomaly detection has not run)."""
    return _rows(con, q.anomalies())


def _forecast_section(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("forecast", "Forecast (effective cost per provider, 80 % and 95 % intervals)")
    forecast = _rows(con, q.forecast("provider"))
    anomalies = _anomalies(con)
    if not forecast:
        section.note = "No provider forecast yet: run the forecast job."
        return section
    summary = _rows(con, q.forecast_summary("provider"))
    first = min(r["as_of_date"] for r in forecast)
    start = first - timedelta(days=FORECAST_HISTORY_DAYS)
    providers = sorted({r["series_key"] for r in forecast})
    # The actuals drawn under the forecast are the series it modelled (rpt_spend_daily.is_spend_trend).
    actuals = _rows(con, q.forecast_actuals("provider_name", providers, start,
                                            max(r["forecast_date"] for r in forecast) + timedelta(days=1)))
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
        history = [r for r in actuals if r["series_key"] == provider]
        fig.add_trace(go.Scatter(x=[r["charge_date"] for r in history], y=[_num(r["effective_cost"]) for r in history],
                                 name="actual", legendgroup="actual", line={"color": "black", "width": 1},
                                 showlegend=legend), i, 1)
        marked = [a for a in anomalies if a["series_dimension"] == "provider" and a["series_key"] == provider]
        if marked:
            fig.add_trace(go.Scatter(x=[a["usage_date"] for a in marked], y=[_num(a["actual_cost"]) for a in marked],
                                     mode="markers", name="anomaly", legendgroup="anomaly",
                                     marker={"color": "red", "size": 10, "symbol": "x"}, showlegend=legend), i, 1)
    section.parts.append(_figure_html(fig, "chart-forecast", height=260 * len(providers)))
    summary_columns = ("series_key", "billing_currency", "as_of_date", "model_name", "first_day", "last_day",
                       "point_total")
    section.parts.append(html_table(summary, "table-forecast", summary_columns))
    if anomalies:
        section.parts.append("<h3>Cost anomalies</h3>" + html_table(anomalies[:TOP_N * 2], "table-anomalies"))
    else:
        section.parts.append('<p class="note">No cost anomalies detected (or anomaly detection has not run).</p>')
    return section


def _gpu_section(con: duckdb.DuckDBPyConnection) -> Section:
    section = Section("gpu", "GPU fleet")
    heat = _rows(con, q.gpu_utilization_heatmap())
    if not heat:
        section.note = "No GPU telemetry in the warehouse."
        return section
    hosts = sorted({r["hostname"] for r in heat})
    days = sorted({r["usage_date"] for r in heat})
    cell = {(r["hostname"], r["usage_date"]): _num(r["utilization_pct"]) for r in heat}
    fig = go.Figure(go.Heatmap(z=[[cell.get((h, d)) for d in days] for h in hosts], x=days, y=hosts,
                               colorscale="Viridis", zmin=0, zmax=100, colorbar={"title": "% active"}))
    fig.update_layout(title="GPU utilization (mean activity, %) by host and day")
    section.parts.append(_figure_html(fig, "chart-gpu-heatmap", height=max(300, 28 * len(hosts) + 120)))

    teams = _rows(con, q.gpu_cost_by(["team"], q.Slice()))
    fig = go.Figure()
    labels = [f"{r['team']} ({r['currency']})" for r in teams]
    fig.add_trace(go.Bar(x=labels, y=[_num(r["used_cost"]) for r in teams], name="used"))
    fig.add_trace(go.Bar(x=labels, y=[_num(r["idle_cost"]) for r in teams], name="idle"))
    fig.add_trace(go.Bar(x=labels, y=[_num(r["unmeasured_cost"]) for r in teams], name="unmeasured (no telemetry)"))
    fig.update_layout(barmode="stack", title="GPU cost per team: used vs idle (idle = allocated unused + unallocated)")
    section.parts.append(_figure_html(fig, "chart-gpu-team-cost"))
    section.parts.append(html_table(teams, "table-gpu-team-cost", ("team", "currency", "used_cost", "idle_cost",
                                                                    "unmeasured_cost", "paid_cost",
                                                                    "idle_allocated_unused", "idle_unallocated")))
    section.parts.append("<h3>Worst GPUs</h3>")
    section.parts.append(html_table(_rows(con, q.worst_gpus(q.Slice())), "table-worst-gpus"))
    return section


def _quality_section(con: duckdb.DuckDBPyConnection, last_loads: Mapping[str, datetime] | None) -> Section:
    section = Section("quality", "Data quality per stage")
    by_stage = {r["stage"]: r for r in _rows(con, q.quality_by_stage())}
    loads = dict(last_loads or {})
    if "ingest" not in loads:
        landed = [r["last_landed_at"] for r in _rows(con, q.source_freshness()) if r["last_landed_at"]]
        if landed:
            loads["ingest"] = max(landed)
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
    """Query the report models and render the overview page (plotly.js inlined: the file works offline).

    `last_loads` maps a stage to the time its assets last materialized successfully (from Dagster);
    without it the ingest stage falls back to the last landed delivery.
    """
    period_row = _rows(con, q.spend_period())[0]
    start, end = period_row["first_day"], period_row["last_day"]
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
        f"{generated_at.strftime('%Y-%m-%d %H:%M UTC')} · every number is SQL on the report models</p></header>"
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
