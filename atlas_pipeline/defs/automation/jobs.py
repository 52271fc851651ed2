"""The warehouse refresh: every asset except the forecasts (their own daily job) and the reports
(the rpt_* views and the overview, rebuilt by report_job after each refresh or forecast run)."""

import dagster as dg

# What report_job rebuilds: the rpt_* dbt views (they read the forecast outputs as well as the marts)
# and the offline overview. data_quality_summary is in the reports group too, but reports on the
# refresh run itself, so it stays in the refresh.
REPORT_SELECTION = dg.AssetSelection.groups("reports") - dg.AssetSelection.assets("data_quality_summary")

# Ingest -> staging -> intermediate -> marts, unpartitioned: a refresh rebuilds from landing.
warehouse_refresh_job = dg.define_asset_job(
    name="warehouse_refresh_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("forecasts") - REPORT_SELECTION,
    description="Land new export deliveries and rebuild staging, intermediate and marts (with their checks).",
)

# Billing exports usually land overnight; refresh before the 06:00 UTC forecast run.
warehouse_refresh_schedule = dg.ScheduleDefinition(
    name="warehouse_refresh_daily",
    job=warehouse_refresh_job,
    cron_schedule="0 4 * * *",
    execution_timezone="UTC",
    description="Daily 04:00 UTC refresh of every non-forecast asset.",
)
