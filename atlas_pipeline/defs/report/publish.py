"""Publish the read-only warehouse snapshot after every successful refresh or forecast run."""

import dagster as dg

from atlas_pipeline.defs.forecast.assets import forecast_job
from atlas_pipeline.defs.report.overview import report_job
from atlas_pipeline.defs.transform.jobs import after_success_sensor, warehouse_refresh_job
from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse.publish import publish_snapshot


@after_success_sensor(
    name="publish_warehouse_snapshot",
    # report_job too: it rebuilds the rpt_* views the dashboard reads (the first time, after the forecast
    # stage has written its tables).
    monitored_jobs=[warehouse_refresh_job, forecast_job, report_job],
    description=(
        "After a successful warehouse_refresh_job, forecast_job or report_job run, atomically replace "
        "$ATLAS_HOME/published/warehouse.duckdb (what `atlas sql` and BI tools read) with the new state."
    ),
)
def publish_warehouse_snapshot(context: dg.RunStatusSensorContext) -> None:
    paths = AtlasPaths.from_env()
    published = publish_snapshot(paths.warehouse, paths.published_warehouse)
    context.log.info(f"published {published['tables']} tables after run {context.dagster_run.run_id}")
