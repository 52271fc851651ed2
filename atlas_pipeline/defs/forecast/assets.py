"""The daily spend forecast per declared series (provider for now), its job and its schedule."""

import functools
import hashlib
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from atlas_pipeline.defs.forecast.partitions import add_as_of_dates, forecast_asset, forecast_partitions
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.forecast.forecast_settings import ForecastSettings, load_forecast_settings
from atlas_pipeline.lib.forecast.forecasting import (
    forecast_declared,
    interval_columns,
    period_end_projection,
)
from atlas_pipeline.lib.forecast.spend_trend import spend_trend_predicate
from atlas_pipeline.lib.forecast.tables import (
    RUN_COLUMNS,
    backtest_summary,
    ensure_forecast_tables,
    forecast_columns,
    forecast_tables,
    metric_columns,
    replace_rows,
)
from atlas_pipeline.lib.run.run_plan import DECLARATION_SHA_KEY, declaration_sha256
from atlas_pipeline.lib.settings import declaration_file

# One partition per as-of date (defs/forecast/partitions.py); the partition's forecast uses history
# strictly before that date. Settings (forecast.yaml) are read when a partition runs.

# Credits and one-off purchases (upfront commitments, marketplace buys) are not spend patterns: they
# arrive as lumps on arbitrary days and would only distort a daily model. Usage, tax and adjustments
# remain. Also why forecasts can be clipped at 0: the modelled series is spend. The list is defined
# once, in the dbt project's vars (the report models use the same), and read when a forecast runs,
# not at import: atlas_pipeline/lib/forecast/spend_trend.py.
_DAILY_SQL = """
select
    cast(charge_date as date) as usage_date,
    coalesce(cast({column} as varchar), '(none)') as series_key,
    billing_currency,
    sum(effective_cost) as effective_cost
from main.fct_cost_daily
where charge_date < ?
    and {spend_trend}
group by all
order by series_key, usage_date
"""


@functools.cache
def _method_sha256() -> str:
    """The forecasting method: the model code and this asset's. A change to either refits every
    series. Read when a forecast first needs it, not when definitions load."""
    from atlas_pipeline.lib.forecast import forecasting

    return hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in (sys.modules[__name__], forecasting))).hexdigest()


def daily_sql(column: str) -> str:
    """The daily spend of each series keyed by `column`, before an as-of date (the one parameter)."""
    return _DAILY_SQL.format(column=column, spend_trend=spend_trend_predicate())


def _read_daily(con: duckdb.DuckDBPyConnection, column: str, as_of: date) -> pd.DataFrame:
    return con.execute(daily_sql(column), [as_of]).df()


# Joins a series' dimension and key into one forecast_frame series key: a character no billing
# dimension value carries (the unit separator).
_KEY_SEPARATOR = "\x1f"


def _forecast_dimensions(
    dailies: dict[str, pd.DataFrame], as_of: date, settings: ForecastSettings
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Forecasts, run status and backtest metrics of every series dimension, each row tagged with
    its dimension (and forecasts and status with the currency).

    Every dimension's series go through one `forecast_declared` call, so they share its worker
    processes (one call per dimension left the provider and team series, too few to parallelise
    alone, to one core). The mart is in billing currency and Atlas does not convert here: a series
    billed in more than one currency is refused rather than summed across currencies.
    """
    singles, refused_rows, currency = [], [], {}
    for dimension, daily in dailies.items():
        currencies = daily.groupby("series_key", sort=True)["billing_currency"].agg(lambda s: sorted(set(s.dropna())))
        mixed = {key: values for key, values in currencies.items() if len(values) > 1}
        singles.append(daily.loc[~daily["series_key"].isin(list(mixed))].assign(
            series_key=lambda f, d=dimension: d + _KEY_SEPARATOR + f["series_key"].astype(str)))
        refused_rows += [
            {
                "series_dimension": dimension,
                "series_key": key,
                "as_of_date": as_of,
                "history_days": (as_of - daily.loc[daily["series_key"] == key, "usage_date"].min().date()).days,
                "model_name": None,
                "backtest_mae": None,
                "refused_reason": f"billed in several currencies ({', '.join(values)}); they are not summed",
            }
            for key, values in mixed.items()
        ]
        currency.update({(dimension, key): values[0] if len(values) == 1 else None for key, values in currencies.items()})
    forecasts, status, metrics = forecast_declared(pd.concat(singles, ignore_index=True), "effective_cost", as_of, settings)
    for frame in (forecasts, status, metrics):
        split = frame["series_key"].str.split(_KEY_SEPARATOR, n=1, expand=True)
        frame.insert(0, "series_dimension", split[0] if len(frame) else pd.Series(dtype=object))
        frame["series_key"] = split[1] if len(frame) else pd.Series(dtype=object)
    if refused_rows:
        refused = pd.DataFrame(refused_rows, columns=status.columns)
        status = pd.concat([status, refused], ignore_index=True) if len(status) else refused
    for frame in (forecasts, status):
        keys = zip(frame["series_dimension"], frame["series_key"], strict=True)
        frame.insert(2, "billing_currency", [currency.get(k) for k in keys])
    metrics.insert(0, "measure", "effective_cost")
    # The declared order of dimensions, then series key (stable: forecast dates stay in order).
    order = list(dailies)

    def rank(column: pd.Series) -> pd.Series:
        return column.map(order.index) if column.name == "series_dimension" else column

    return tuple(frame.sort_values(["series_dimension", "series_key"], key=rank, kind="stable", ignore_index=True)
                 for frame in (forecasts, status, metrics))


def input_fingerprints(daily: pd.DataFrame, dimension: str, as_of: date, settings: ForecastSettings) -> dict[str, str]:
    """Per series of one dimension: the sha256 of everything its forecast is computed from — its
    daily history before `as_of` (day, currency, cost), the as-of date, the settings and the
    forecasting code. The models are deterministic, so an equal fingerprint means an equal forecast."""
    fixed = "|".join(str(v) for v in (_method_sha256(), dimension, as_of, settings.horizon_days, list(settings.coverages),
                                      settings.min_history_days))
    out = {}
    for key, group in daily.groupby("series_key", sort=True):
        rows = group[["usage_date", "billing_currency", "effective_cost"]].astype(str)
        rows = rows.sort_values(["usage_date", "billing_currency"])
        text = fixed + "\n" + "\n".join("|".join(r) for r in rows.itertuples(index=False))
        out[str(key)] = hashlib.sha256(text.encode()).hexdigest()
    return out


def _previous_fingerprints(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[tuple[str, str], str]:
    """(dimension, series) -> input fingerprint of this as-of date's last spend forecast ({} if none)."""
    try:
        rows = con.execute(
            "select series_dimension, series_key, input_sha256 from main.forecast_runs "
            "where as_of_date = ? and series_dimension <> 'gpu_cluster' and input_sha256 is not null", [as_of]
        ).fetchall()
    except duckdb.Error:  # no table, or written before fingerprints were kept
        return {}
    return {(d, k): sha for d, k, sha in rows}


def _partition_rows(
    con: duckdb.DuckDBPyConnection, as_of: date, settings: ForecastSettings
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """This as-of date's spend forecasts, runs and backtest metrics as stored (money as floats)."""
    selected = ", ".join(forecast_columns(settings))
    forecasts = con.execute(
        f"select {selected} from main.forecast_cost_daily where as_of_date = ? "
        "order by series_dimension, series_key, forecast_date", [as_of]).df()
    status = con.execute(
        f"select {', '.join(RUN_COLUMNS)} from main.forecast_runs where as_of_date = ? and series_dimension <> "
        "'gpu_cluster' order by series_dimension, series_key", [as_of]).df()
    metrics = con.execute(
        f"select {', '.join(metric_columns(settings))} from main.forecast_backtest_metrics "
        "where as_of_date = ? and measure = 'effective_cost' order by all", [as_of]).df()
    for frame in (forecasts, status, metrics):
        for column in ("as_of_date", "forecast_date"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column]).dt.date
    return forecasts, status, metrics


def _plots(daily: pd.DataFrame, forecasts: pd.DataFrame, dimension: str, max_series: int = 6) -> str:
    """Markdown with a small PNG per forecast series of one dimension: the last 8 weeks of history
    (black), the forecast (blue) and its 80 % / 95 % bands (shaded); the grey line is the as-of date."""
    from atlas_pipeline.lib.forecast.forecast_plot import forecast_png, markdown_image

    mine = forecasts[forecasts["series_dimension"] == dimension]
    if mine.empty or "lower_80" not in mine or "lower_95" not in mine:
        return "(no forecast to plot)"
    parts = []
    for key, group in list(mine.groupby("series_key", sort=True))[:max_series]:
        history = daily.loc[daily["series_key"] == key].groupby("usage_date")["effective_cost"].sum().astype(float)
        history = history.iloc[-56:].to_numpy()
        columns = [group[c].astype(float).to_numpy() for c in ("point", "lower_80", "upper_80", "lower_95", "upper_95")]
        currency = group["billing_currency"].iloc[0]
        parts.append(f"**{dimension} {key}** ({currency}/day)\n\n" + markdown_image(forecast_png(history, *columns), key))
    return "\n\n".join(parts)


def _preview(forecasts: pd.DataFrame, settings: ForecastSettings, rows_per_series: int = 5) -> str:
    if forecasts.empty:
        return "(no forecasts: see series_refused)"
    head = forecasts.groupby(["series_dimension", "series_key"], sort=True).head(rows_per_series)
    columns = ["series_key", "forecast_date", "model_name", "point", *interval_columns(settings.coverages)]
    return head[columns].round(2).to_markdown(index=False)


@forecast_asset(
    deps=[dg.AssetKey("fct_cost_daily")],
    kinds={"sktime", "duckdb"},
    declaration="forecast.yaml",
    metadata={"tables": forecast_tables("main.forecast_cost_daily")},
)
def forecast_cost_daily(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Daily EffectiveCost forecast per series (provider, service, team; see `forecast.yaml`), as of the
    partition date.

    Each partition forecasts from history strictly before its date, for `horizon_days` days from
    that date, with a point forecast and 80 % / 95 % prediction intervals (lower bounds clipped at 0:
    spend is not negative). Per series the model (seasonal naive, Theta or additive Holt-Winters
    ETS, all weekly) is chosen by an expanding-window backtest. Credits and one-off purchases are
    left out of the modelled spend: they are lumps, not patterns. Series with too little history,
    or billed in more than one currency, get no forecast and a stated reason.

    Writes `main.forecast_cost_daily` (series × as-of date × forecast date; DECIMAL(38, 6)),
    `main.forecast_runs` (series × as-of date: model, backtest MAE or reason refused) and
    `main.forecast_backtest_metrics` (series × candidate model × as-of date: MAE, MAPE, MASE against
    the weekly seasonal naive forecast, 80 % / 95 % interval coverage; the chosen model has the
    lowest MASE). Metadata holds month-end and quarter-end projections.
    Re-materializing a partition replaces its rows; a series whose input is unchanged since the
    partition's last run (its history, the settings and the forecasting code: `input_sha256` in
    `main.forecast_runs`) keeps its rows — the models are deterministic, a refit would write them
    again — so a restated month refits only the series it changed.
    """
    as_of = date.fromisoformat(context.partition_key)
    settings = load_forecast_settings()
    with warehouse.connect() as con:
        try:
            dailies = {dim: _read_daily(con, settings.series_column(dim), as_of) for dim in settings.series}
        except duckdb.CatalogException as exc:
            raise dg.Failure(description=f"main.fct_cost_daily is missing: materialize the marts first ({exc})") from exc
        previous = _previous_fingerprints(con, as_of)

    for dim, daily in dailies.items():
        if daily.empty:
            context.log.warning(f"no {dim} cost rows before {as_of} in main.fct_cost_daily: nothing to forecast")
    # A series whose input is what this partition's last forecast of it was made from keeps that
    # forecast (a restated month that left its daily spend as it was); the others are refitted.
    fingerprints = {dim: input_fingerprints(daily, dim, as_of, settings) for dim, daily in dailies.items()}
    kept = pd.DataFrame(
        [(dim, key) for dim, fps in fingerprints.items() for key, sha in fps.items() if previous.get((dim, key)) == sha],
        columns=["series_dimension", "series_key"],
    )
    forecasts, status, metrics = _forecast_dimensions(
        {dim: daily[~daily["series_key"].isin(kept.loc[kept["series_dimension"] == dim, "series_key"])]
         for dim, daily in dailies.items()},
        as_of, settings)
    status["input_sha256"] = [fingerprints[d].get(k)
                              for d, k in zip(status["series_dimension"], status["series_key"], strict=True)]

    with warehouse.connect() as con:
        ensure_forecast_tables(con, "main.forecast_cost_daily", forecast_columns(settings), settings)
        replace_rows(con, "as_of_date = ?", [as_of], {"main.forecast_cost_daily": forecasts}, keep=kept)
        # forecast_runs also holds the GPU-hours forecast's runs (series_dimension 'gpu_cluster').
        replace_rows(con, "as_of_date = ? and series_dimension <> 'gpu_cluster'", [as_of], {"main.forecast_runs": status},
                     keep=kept)
        replace_rows(
            con,
            "as_of_date = ? and measure = 'effective_cost'",
            [as_of],
            {"main.forecast_backtest_metrics": metrics},
            keep=kept,
        )
        if len(kept):  # the kept series' rows, for the metadata below (every series, as a full refit shows it)
            forecasts, status, metrics = _partition_rows(con, as_of, settings)
    context.log.info(f"as of {as_of}: {len(kept)} series unchanged since their last forecast (kept), "
                     f"{sum(len(f) for f in fingerprints.values()) - len(kept)} fitted")

    models: dict[str, dict] = {}
    refused: dict[str, dict] = {}
    projection: dict[str, dict] = {}
    quarter: dict[str, dict] = {}
    for dim, daily in dailies.items():
        last_cost = daily.groupby("series_key")["usage_date"].max()
        rows = status[status["series_dimension"] == dim]
        models[dim] = {
            r.series_key: {
                "model": r.model_name,
                "backtest_mae": None if pd.isna(r.backtest_mae) else round(float(r.backtest_mae), 4),
                "history_days": int(r.history_days),
                "last_cost_date": pd.Timestamp(last_cost[r.series_key]).date().isoformat(),
            }
            for r in rows.itertuples()
            if pd.notna(r.model_name)
        }
        refused[dim] = {r.series_key: r.refused_reason for r in rows.itertuples() if pd.isna(r.model_name)}
        mine = forecasts[forecasts["series_dimension"] == dim]
        projection[dim] = period_end_projection(daily, mine, "series_key", "usage_date", "effective_cost", as_of)
        quarter[dim] = period_end_projection(
            daily, mine, "series_key", "usage_date", "effective_cost", as_of, period="quarter"
        )
        for key, reason in refused[dim].items():
            context.log.warning(f"{dim} {key!r}: no forecast as of {as_of}: {reason}")
    stale = as_of - timedelta(days=1)
    late = sorted(k for dim in models for k, m in models[dim].items() if m["last_cost_date"] < stale.isoformat())
    if late:
        context.log.warning(f"no cost rows on {stale} for {late}: counted as zero spend (re-run once data lands)")

    return dg.MaterializeResult(
        metadata={
            DECLARATION_SHA_KEY: declaration_sha256(declaration_file("forecast.yaml")),
            "as_of_date": as_of.isoformat(),
            "history_through": stale.isoformat(),
            "declared_in": settings.declared_in,
            "horizon_days": dg.MetadataValue.int(settings.horizon_days),
            "coverages": dg.MetadataValue.json(list(settings.coverages)),
            "series_forecast": dg.MetadataValue.int(sum(len(m) for m in models.values())),
            "series_refused": dg.MetadataValue.json(refused),
            "models": dg.MetadataValue.json(models),
            "month_end_projection": dg.MetadataValue.json(projection),
            "quarter_end_projection": dg.MetadataValue.json(quarter),
            "backtest": dg.MetadataValue.md(backtest_summary(metrics)),
            "forecast_rows": dg.MetadataValue.int(len(forecasts)),
            "series_kept": dg.MetadataValue.int(len(kept)),
            "preview": dg.MetadataValue.md(_preview(forecasts, settings)),
            "plot": dg.MetadataValue.md(_plots(dailies[settings.series[0]], forecasts, settings.series[0])),
        }
    )


forecast_job = dg.define_asset_job(
    name="forecast_job",
    # Every asset of the group: spend and GPU-hours forecasts, anomalies, budget status.
    selection=dg.AssetSelection.groups("forecasts"),
    partitions_def=forecast_partitions,
    description=(
        "Forecast daily spend and GPU-hours as of the partition date (history strictly before it); "
        "flag cost anomalies and project budgets."
    ),
)

# Daily at 06:00 UTC, two hours after the 04:00 warehouse refresh has landed the night's billing
# data, for yesterday's as-of date: the history ends the day before yesterday and the still-filling
# last day stays out of the model. The refresh adds the as-of dates its data supports
# (forecast_as_of_dates_after_refresh); the schedule adds yesterday's itself if it is not there yet
# (data late, or that sensor skipped), since a run can only target an existing dynamic partition.
# Like every Atlas schedule it starts STOPPED: turn it on in the UI (Automation) or with
# `dagster schedule start forecast_daily`, with the daemon running.
@dg.schedule(
    name="forecast_daily",
    job=forecast_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Daily 06:00 UTC spend and GPU-hours forecast for yesterday's as-of date.",
)
def forecast_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    as_of = (context.scheduled_execution_time.date() - timedelta(days=1)).isoformat()
    added = add_as_of_dates(context.instance, [as_of])
    if added:
        context.log.info(f"added forecast as-of date {as_of} (not yet derived from landed data)")
    return dg.RunRequest(run_key=f"forecast-{as_of}", partition_key=as_of)
