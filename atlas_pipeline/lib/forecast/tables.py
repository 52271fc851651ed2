"""The forecast tables (`forecast_cost_daily`, `forecast_runs`, `forecast_backtest_metrics`, and the
anomaly and budget tables beside them): their columns, creating them, and replacing a partition's rows."""

from __future__ import annotations

import duckdb
import pandas as pd

from atlas_pipeline.lib.forecast.forecast_settings import ForecastSettings
from atlas_pipeline.lib.forecast.forecasting import coverage_label, interval_columns
from atlas_pipeline.lib.warehouse.connections import transaction

RUN_COLUMNS = {
    "series_dimension": "varchar",
    "series_key": "varchar",
    "billing_currency": "varchar",
    "as_of_date": "date",
    "history_days": "integer",
    "model_name": "varchar",
    "backtest_mae": "double",  # an error measure, not money
    "refused_reason": "varchar",
    # What the series' forecast was made from (defs/forecast/assets.py input_fingerprints): a re-run of the partition
    # whose input is unchanged keeps that series' rows instead of refitting it.
    "input_sha256": "varchar",
}


def metric_columns(settings: ForecastSettings) -> dict[str, str]:
    """`forecast_backtest_metrics`' columns, one coverage column per declared interval."""
    # Error measures and shares, not money: doubles.
    return {
        "measure": "varchar",
        "series_dimension": "varchar",
        "series_key": "varchar",
        "as_of_date": "date",
        "model_name": "varchar",
        "chosen": "boolean",
        "folds": "integer",
        "points": "integer",
        "mae": "double",
        "mape": "double",
        "mase": "double",
        **{f"coverage_{coverage_label(c)}": "double" for c in settings.coverages},
    }


def forecast_columns(settings: ForecastSettings, money: bool = True) -> dict[str, str]:
    """A forecast table's columns: the point forecast and a lower/upper bound per interval.
    `forecast_cost_daily` (money) has a billing currency; `forecast_gpu_hours_daily` (money=False)
    has none."""
    # Money forecasts are DECIMAL(38, 6), like the marts' money but with less scale (a forecast is
    # not exact to the micro-cent, but sums and comparisons stay decimal). GPU-hours are a
    # quantity, not money: doubles.
    kind = "decimal(38, 6)" if money else "double"
    return {
        "series_dimension": "varchar",
        "series_key": "varchar",
        **({"billing_currency": "varchar"} if money else {}),
        "as_of_date": "date",
        "model_name": "varchar",
        "forecast_date": "date",
        **{name: kind for name in ["point", *interval_columns(settings.coverages)]},
    }


def ensure_table(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str]) -> None:
    """Create the table, or add columns a newer declaration needs (e.g. another coverage)."""
    con.execute(f"create table if not exists {table} ({', '.join(f'{n} {t}' for n, t in columns.items())})")
    for name, kind in columns.items():
        con.execute(f"alter table {table} add column if not exists {name} {kind}")


# Every forecast (spend, GPU-hours) writes its runs and its backtest to these two shared tables.
SHARED_TABLES = ("main.forecast_runs", "main.forecast_backtest_metrics")


def forecast_tables(table: str) -> str:
    """The tables a forecast asset writes (its own, then the shared two), for the asset's metadata."""
    return ", ".join((table, *SHARED_TABLES))


def ensure_forecast_tables(
    con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], settings: ForecastSettings
) -> None:
    """Create (or widen) a forecast's own table and the runs and backtest tables every forecast shares."""
    runs, metrics = SHARED_TABLES
    ensure_table(con, table, columns)
    ensure_table(con, runs, RUN_COLUMNS)
    ensure_table(con, metrics, metric_columns(settings))


def replace_rows(
    con: duckdb.DuckDBPyConnection, where: str, params: list, frames: dict[str, pd.DataFrame],
    keep: pd.DataFrame | None = None,
) -> None:
    """Per table: delete the rows `where` selects and insert the frame's, in one transaction
    (readers see either the old or the new rows; a re-run replaces, never duplicates). Rows whose
    (series_dimension, series_key) is in `keep` stay as they are."""
    with transaction(con):
        if keep is not None:
            con.register("_atlas_keep", keep[["series_dimension", "series_key"]])
        for table, frame in frames.items():
            unless = "" if keep is None else (
                f" and not exists (select 1 from _atlas_keep k where k.series_dimension = {table}.series_dimension"
                f" and k.series_key = {table}.series_key)")
            con.execute(f"delete from {table} where {where}{unless}", params)
            if len(frame):
                con.register("_atlas_rows", frame)
                con.execute(f"insert into {table} by name select * from _atlas_rows")
                con.unregister("_atlas_rows")
        if keep is not None:
            con.unregister("_atlas_keep")


def backtest_summary(metrics: pd.DataFrame) -> str:
    """Mean backtest metrics per series dimension and model, and how often each model was chosen."""
    if metrics.empty:
        return "(no backtests: histories too short)"
    summary = metrics.groupby(["series_dimension", "model_name"], sort=True).agg(
        series=("series_key", "nunique"),
        chosen=("chosen", "sum"),
        mean_mase=("mase", "mean"),
        **{f"mean_{c}": (c, "mean") for c in metrics.columns if c.startswith("coverage_")},
    )
    return summary.round(3).reset_index().to_markdown(index=False)
