"""The warehouse refresh: every asset except the forecasts (their own daily job) and the overview
report (rebuilt by its own job after each refresh or forecast run)."""

import dagster as dg

# Ingest -> staging -> intermediate -> marts, unpartitioned: a refresh rebuilds from landing.
warehouse_refresh_job = dg.define_asset_job(
    name="warehouse_refresh_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("forecasts") - dg.AssetSelection.assets("atlas_overview"),
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
