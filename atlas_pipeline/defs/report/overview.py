"""The `atlas_overview` report asset, its job, and the sensor that rebuilds it after every run."""

from datetime import UTC, datetime

import dagster as dg

from atlas_pipeline.defs.catalog import REPORTING
from atlas_pipeline.defs.forecast.assets import forecast_job
from atlas_pipeline.defs.resources import WAREHOUSE_LOCK_RETRY, Warehouse
from atlas_pipeline.defs.transform.jobs import REPORT_SELECTION, after_success_sensor, warehouse_refresh_job
from atlas_pipeline.lib.report import report_queries
from atlas_pipeline.lib.report.overview_report import build_overview, stage_of_asset, write_overview
from atlas_pipeline.lib.warehouse.connections import connect_reader

# What the page reads: the report models (dbt_project/models/reports).
UPSTREAM = (
    "rpt_spend_daily",
    "rpt_spend_monthly",
    "rpt_budget_status",
    "rpt_forecast_cost_daily",
    "rpt_forecast_summary",
    "rpt_cost_anomalies",
    "rpt_gpu_utilization_daily",
    "rpt_gpu_cost_daily",
    "rpt_gpu_health_daily",
    "rpt_data_quality_by_stage",
    "rpt_source_freshness",
)


def _last_loads(context: dg.AssetExecutionContext) -> dict[str, datetime]:
    """Per stage, when its assets last materialized successfully (Dagster's event log).

    A run of report_job only sees its own asset's neighbours, so the stage comes from the key by
    the project's naming convention (`stage_of_asset`), the same one the quality SQL uses."""
    keys = [k for k in context.instance.get_asset_keys() if stage_of_asset(k.to_user_string()) != "reports"]
    loads: dict[str, datetime] = {}
    for key, event in context.instance.get_latest_materialization_events(keys).items():
        if event is not None:
            stage = stage_of_asset(key.to_user_string())
            stamp = datetime.fromtimestamp(event.timestamp, tz=UTC)
            loads[stage] = max(loads.get(stage, stamp), stamp)
    return loads


@dg.asset(
    key="atlas_overview",
    group_name="reports",
    kinds={"html", "plotly"},
    owners=list(REPORTING.owners),
    tags=REPORTING.tags,
    deps=[dg.AssetKey(name) for name in UPSTREAM],
    metadata={"path": "$ATLAS_HOME/reports/atlas_overview.html"},
    retry_policy=WAREHOUSE_LOCK_RETRY,
)
def atlas_overview(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """The single pane of glass: `$ATLAS_HOME/reports/atlas_overview.html`, one self-contained page
    that opens offline (plotly.js inlined, no CDN).

    Spend over time by provider (billed and effective), top services and teams, month to date vs
    budget (each budget once, for the newest as-of date), the forecast with its 80 % / 95 %
    intervals and cost anomalies marked, the GPU fleet (utilization heatmap by host × day, cost per
    team split into used and idle, the worst GPUs) and data quality per stage with the time of its
    last successful load. Every number is a SQL result on the rpt_* report models, rebuilt in the
    same run. Rebuilt after every successful refresh or forecast run.
    """
    paths = warehouse.paths()
    # As every reader: locked down, queries only (the page is built from SQL results, nothing else).
    with connect_reader(paths.warehouse) as con:
        report = build_overview(con, generated_at=datetime.now(UTC), last_loads=_last_loads(context))
        totals = con.execute(report_queries.spend_by_provider_currency().sql).fetchall()
    path = write_overview(report, paths.overview_report)
    context.log.info(f"wrote {path} ({len(report.html) / 1e6:.1f} MB, {report.charts} charts)")
    preview = "| provider | currency | billed | effective |\n|---|---|---:|---:|\n" + "\n".join(
        f"| {p} | {c} | {b:,.2f} | {e:,.2f} |" for p, c, b, e, *_ in totals
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "size_bytes": dg.MetadataValue.int(len(report.html.encode())),
            "charts": dg.MetadataValue.int(report.charts),
            "sections": dg.MetadataValue.json(list(report.sections)),
            "period_start": str(report.period_start),
            "period_end": str(report.period_end),
            "cost_by_provider": dg.MetadataValue.md(preview),
        }
    )


report_job = dg.define_asset_job(
    name="report_job",
    selection=REPORT_SELECTION,
    description="Rebuild the rpt_* report views (dashboard, CLI, BI tools) and the offline HTML overview.",
    # It starts when a refresh or forecast run succeeds, as the publishing sensor copies the warehouse.
    op_retry_policy=WAREHOUSE_LOCK_RETRY,
)


@after_success_sensor(
    name="rebuild_overview_report",
    monitored_jobs=[warehouse_refresh_job, forecast_job],
    request_job=report_job,
    description=(
        "After a successful warehouse_refresh_job or forecast_job run, rebuild the rpt_* report views "
        "and atlas_overview.html."
    ),
)
def rebuild_overview_report(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"overview-after-{context.dagster_run.run_id}")
