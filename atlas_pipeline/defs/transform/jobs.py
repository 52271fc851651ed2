"""The warehouse's jobs, one per partitioning (a Dagster job runs one partitions definition):

- `billing_job` (partition = billing period): land that month's billing deliveries from every
  billing source and rebuild that month of staging -> FOCUS -> daily cost, with their checks.
- `telemetry_job` (partition = UTC day): land that day's telemetry and job accounting and rebuild
  that day of the per-reading GPU models.
- `warehouse_refresh_job` (unpartitioned): the node inventory, the declarations (GPU prices,
  Kubernetes teams), the seeds, and everything built from whole history downstream of the
  partitions (GPU jobs and cost allocation, health, quality ledgers, views, the quality summary).

Forecasts (forecast_job) and reports (report_job) have their own jobs. `atlas run`, the delivery
sensors and the schedules run only the partitions that changed, then what depends on them.
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg

from atlas_pipeline.defs.ingest.partitions import BILLING_PERIODS, TELEMETRY_DAYS, billing_periods, telemetry_days

# Every partitioned asset carries the tag `partitioned_by` (ingest assets and the partitioned dbt models).
PARTITION_TAG = "partitioned_by"
BILLING_SELECTION = dg.AssetSelection.tag(PARTITION_TAG, BILLING_PERIODS)
TELEMETRY_SELECTION = dg.AssetSelection.tag(PARTITION_TAG, TELEMETRY_DAYS)

# What report_job rebuilds: the rpt_* dbt views (they read the forecast outputs as well as the marts)
# and the offline overview. data_quality_summary is in the reports group too, but reports on the
# refresh runs themselves, so it stays in the refresh.
REPORT_SELECTION = dg.AssetSelection.groups("reports") - dg.AssetSelection.assets("data_quality_summary")
FORECAST_SELECTION = dg.AssetSelection.groups("forecasts")

# The unpartitioned rest of the warehouse.
REFRESH_SELECTION = (
    dg.AssetSelection.all() - FORECAST_SELECTION - REPORT_SELECTION - BILLING_SELECTION - TELEMETRY_SELECTION
)

billing_job = dg.define_asset_job(
    name="billing_job",
    selection=BILLING_SELECTION,
    partitions_def=billing_periods,
    description=(
        "Land a billing period's deliveries from every billing source and rebuild that period of the billing "
        "staging, FOCUS (focus_cost_and_usage) and daily cost (fct_cost_daily) models, with their checks. "
        "Other periods are left untouched. A backfill of several periods runs once."
    ),
)

telemetry_job = dg.define_asset_job(
    name="telemetry_job",
    selection=TELEMETRY_SELECTION,
    partitions_def=telemetry_days,
    description=(
        "Land a UTC day's GPU telemetry and job accounting and rebuild that day of int_gpu_samples and "
        "fct_gpu_usage_hourly, with their checks. Other days are left untouched."
    ),
)

warehouse_refresh_job = dg.define_asset_job(
    name="warehouse_refresh_job",
    selection=REFRESH_SELECTION,
    description=(
        "The unpartitioned warehouse: node inventory, declarations and seeds, and everything built from whole "
        "history downstream of the billing and telemetry partitions (GPU jobs, cost allocation, health, quality "
        "ledgers, views, data_quality_summary). Started after each billing or telemetry run."
    ),
)

# Billing exports land overnight: look for new deliveries before the 06:00 UTC forecast run. The
# schedules and the per-source delivery sensors (defs/ingest/sensors.py) request runs of exactly
# the partitions with a new delivery; `warehouse_after_partitions` then refreshes what depends on them.
warehouse_refresh_schedule = dg.ScheduleDefinition(
    name="warehouse_refresh_daily",
    job=warehouse_refresh_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    description=(
        "Daily 05:00 UTC refresh of the unpartitioned warehouse (inventory, declarations, and everything "
        "downstream of the partitions), after the 04:00 billing and the hourly telemetry runs."
    ),
)


def after_success_sensor(name: str, monitored_jobs: Sequence[Any], description: str, **kwargs: Any) -> Any:
    """`dg.run_status_sensor` for what follows a successful run of one of `monitored_jobs` (a refresh,
    the snapshot, the overview, forecast partitions). On by default: it only chains Atlas's own jobs,
    unlike the delivery sensors and schedules, which reach outside and start stopped. `kwargs`:
    `request_job` and the like."""
    return dg.run_status_sensor(
        name=name,
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=list(monitored_jobs),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=description,
        **kwargs,
    )

