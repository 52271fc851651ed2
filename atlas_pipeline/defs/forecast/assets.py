"""The daily spend forecast per provider, its job and its schedule."""

import dagster as dg

from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.forecast_settings import load_forecast_settings
from atlas_pipeline.lib.forecasting import forecast_frame

SETTINGS = load_forecast_settings()

forecast_partitions = dg.DailyPartitionsDefinition(start_date=SETTINGS.partitions_start.isoformat())

_DDL = """
create table if not exists main.forecast_cost_daily (
    series_key varchar, as_of_date date, model_name varchar, forecast_date date, point decimal(38, 6),
    {bounds}
);
create table if not exists main.forecast_runs (
    series_key varchar, as_of_date date, history_days integer, model_name varchar,
    backtest_mae double, refused_reason varchar
);
"""


@dg.asset(
    group_name="forecasts",
    partitions_def=forecast_partitions,
    deps=[dg.AssetKey("fct_cost_daily")],
    kinds={"sktime", "duckdb"},
)
def forecast_cost_daily(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Daily EffectiveCost forecast per provider, as of the partition date (history strictly before
    it), with a point forecast and 80 % / 95 % prediction intervals for the declared horizon
    (`assets/forecast.yaml`). Credits and one-off purchases are excluded from the modelled series:
    they are not spend patterns. Series with too little history get no forecast and a stated
    reason in `forecast_runs`. Re-materializing a partition replaces its rows."""
    as_of = context.partition_time_window.start.date()
    labels = [f"{round(c * 100):02d}" for c in SETTINGS.coverages]
    bounds = ", ".join(f"{side}_{label} decimal(38, 6)" for label in labels for side in ("lower", "upper"))
    with warehouse.connect() as con:
        daily = con.execute(
            """
            select provider_name as series_key, charge_date as day, cast(sum(effective_cost) as double) as value
            from main.fct_cost_daily
            where charge_category not in ('Credit', 'Purchase')
            group by all
            """
        ).df()
        forecasts, status = forecast_frame(
            daily, as_of, SETTINGS.horizon_days, SETTINGS.coverages, SETTINGS.min_history_days
        )
        con.execute(_DDL.format(bounds=bounds))
        con.execute("begin transaction")
        con.execute("delete from main.forecast_cost_daily where as_of_date = ?", [as_of])
        con.execute("delete from main.forecast_runs where as_of_date = ?", [as_of])
        if len(forecasts):
            con.execute("insert into main.forecast_cost_daily by name select * from forecasts")
        if len(status):
            con.execute("insert into main.forecast_runs by name select * from status")
        con.execute("commit")
        month_end = con.execute(
            """
            with actual as (
                select provider_name as series_key, sum(effective_cost) as mtd
                from main.fct_cost_daily
                where charge_date >= date_trunc('month', cast(? as date)) and charge_date < ?
                    and charge_category not in ('Credit', 'Purchase')
                group by all
            ), projected as (
                select series_key, sum(point) as rest
                from main.forecast_cost_daily
                where as_of_date = ? and forecast_date < date_trunc('month', cast(? as date)) + interval 1 month
                group by all
            )
            select series_key, cast(coalesce(mtd, 0) + coalesce(rest, 0) as double)
            from projected full join actual using (series_key) order by 1
            """,
            [as_of, as_of, as_of, as_of],
        ).fetchall()
    refused = {r.series_key: r.refused_reason for r in status.itertuples() if r.refused_reason}
    preview = forecasts.head(10).to_markdown(index=False) if len(forecasts) else "(no forecasts)"
    return dg.MaterializeResult(
        metadata={
            "as_of_date": as_of.isoformat(),
            "horizon_days": SETTINGS.horizon_days,
            "series_forecast": len(status) - len(refused),
            "series_refused": dg.MetadataValue.json(refused),
            "models": dg.MetadataValue.json(
                {r.series_key: r.model_name for r in status.itertuples() if r.model_name}
            ),
            "month_end_projection": dg.MetadataValue.json({k: round(v, 2) for k, v in month_end}),
            "preview": dg.MetadataValue.md(preview),
        }
    )


forecast_job = dg.define_asset_job(
    name="forecast_job",
    selection=[forecast_cost_daily],
    partitions_def=forecast_partitions,
    description="Forecast daily spend as of the partition date.",
)

# 06:00 UTC, after the 04:00 warehouse refresh has landed the night's billing data.
forecast_schedule = dg.build_schedule_from_partitioned_job(forecast_job, hour_of_day=6, minute_of_hour=0)
