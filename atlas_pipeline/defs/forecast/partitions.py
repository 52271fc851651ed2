"""The forecasts' partitions: one per as-of date that is forecast (Dagster dynamic partitions), so
the UI lists forecasts that exist, not every day of history as "missing". After each successful
warehouse refresh the newest as-of date the history supports is added (the day after the last cost
day); `atlas run` adds the dates it forecasts (and `--as-of`), the daily schedule yesterday's. Any
older date with history can be added from the UI (add partition) or `atlas run --as-of`."""

from collections.abc import Iterable
from typing import Any

import dagster as dg
import duckdb

from atlas_pipeline.defs.catalog import FORECASTING
from atlas_pipeline.defs.transform.jobs import after_success_sensor, warehouse_refresh_job
from atlas_pipeline.lib.forecast.forecast_as_of import FORECAST_PARTITIONS_NAME, as_of_dates, default_as_of, history_spans
from atlas_pipeline.lib.run.run_plan import DECLARATION_FILE_KEY
from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect

forecast_partitions = dg.DynamicPartitionsDefinition(name=FORECAST_PARTITIONS_NAME)


def forecast_asset(declaration: str, metadata: dict[str, Any], **kwargs: Any) -> Any:
    """`dg.asset` for the forecasts group: owned by the forecasting domain, one partition per as-of
    date, reading `declaration` (a file of the declarations folder: `atlas run` counts the asset
    stale when that file changed since its last build). `kwargs` are the asset's own (deps, kinds, checks)."""
    return dg.asset(
        group_name="forecasts",
        owners=list(FORECASTING.owners),
        tags=FORECASTING.tags,
        partitions_def=forecast_partitions,
        metadata={
            "declared_in": f"{declaration} of the declarations folder ($ATLAS_ASSETS, else assets/)",
            DECLARATION_FILE_KEY: declaration,
            **metadata,
        },
        **kwargs,
    )


def missing_as_of_dates(instance: dg.DagsterInstance, keys: Iterable[str]) -> list[str]:
    """The keys (ISO dates) that are not yet forecast partitions, in the order given."""
    existing = set(instance.get_dynamic_partitions(FORECAST_PARTITIONS_NAME))
    return [key for key in dict.fromkeys(keys) if key not in existing]


def add_as_of_dates(instance: dg.DagsterInstance, keys: Iterable[str]) -> list[str]:
    """Make `keys` forecast partitions (the ones already there are left alone); returns those added."""
    missing = missing_as_of_dates(instance, keys)
    if missing:
        instance.add_dynamic_partitions(FORECAST_PARTITIONS_NAME, missing)
    return missing


def register_history_as_of_dates(instance: dg.DagsterInstance, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Add every as-of date the warehouse's daily histories support (see lib/forecast/forecast_as_of.py): for
    backfilling forecasts over a whole history."""
    return add_as_of_dates(instance, [d.isoformat() for d in as_of_dates(history_spans(con))])


def supported_as_of_dates(con: duckdb.DuckDBPyConnection, keys: Iterable[str]) -> list[str]:
    """Those of `keys` the warehouse's history supports (there is history before the date)."""
    supported = {d.isoformat() for d in as_of_dates(history_spans(con))}
    return [k for k in keys if k in supported]


@after_success_sensor(
    name="forecast_as_of_dates_after_refresh",
    monitored_jobs=[warehouse_refresh_job],
    description=(
        "After a successful warehouse_refresh_job run, add the forecast partition of the newest as-of date "
        "the landed history supports (the day after the last cost day)."
    ),
)
def forecast_as_of_dates_after_refresh(context: dg.RunStatusSensorContext) -> dg.SensorResult | dg.SkipReason:
    try:
        with connect(AtlasPaths.from_env().warehouse, read_only=True) as con:
            newest = default_as_of(history_spans(con))
    except duckdb.Error as exc:  # e.g. another run holds the warehouse; the daily schedule adds its own date
        return dg.SkipReason(f"warehouse not readable now: {str(exc).splitlines()[0]}")
    missing = missing_as_of_dates(context.instance, [newest.isoformat()] if newest else [])
    if not missing:
        return dg.SkipReason(f"no new as-of date after run {context.dagster_run.run_id}")
    context.log.info(f"adding forecast as-of date {missing[0]}")
    return dg.SensorResult(dynamic_partitions_requests=[forecast_partitions.build_add_request(missing)])
