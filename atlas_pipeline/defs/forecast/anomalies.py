"""Cost anomalies: days whose actual spend fell outside the 95 % interval of an earlier forecast."""

from datetime import date, timedelta

import dagster as dg
import duckdb
import pandas as pd

from atlas_pipeline.defs.forecast.assets import forecast_cost_daily
from atlas_pipeline.defs.forecast.partitions import forecast_asset
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.forecast.forecast_settings import SERIES_COLUMNS, load_forecast_settings
from atlas_pipeline.lib.forecast.spend_trend import spend_trend_predicate
from atlas_pipeline.lib.forecast.tables import ensure_table, replace_rows
from atlas_pipeline.lib.run.run_plan import DECLARATION_SHA_KEY, declaration_sha256
from atlas_pipeline.lib.settings import declaration_file
from atlas_pipeline.lib.warehouse.connections import relation_exists

# Each partition (as-of date D) re-examines the days D-14 .. D-1: late-landing data and forecasts
# materialized out of order are picked up by the next days' runs.
LOOKBACK_DAYS = 14
# Coverage of the interval whose breach makes an anomaly.
ANOMALY_COVERAGE = "95"
# Which other dimensions may explain an anomaly (any fct_cost_daily series column but its own).
EXPLAIN_DIMENSIONS = ("provider", "service", "team", "region", "sub_account")
# Severity by |impact| relative to the expected (point) cost.
SEVERITY_THRESHOLDS = (("high", 1.0), ("medium", 0.25))

_COLUMNS = {
    "series_dimension": "varchar",
    "series_key": "varchar",
    "billing_currency": "varchar",
    "usage_date": "date",
    "forecast_as_of_date": "date",
    "model_name": "varchar",
    "actual_cost": "decimal(38, 6)",
    "expected_cost": "decimal(38, 6)",
    "lower_95": "decimal(38, 6)",
    "upper_95": "decimal(38, 6)",
    "impact": "decimal(38, 6)",
    "relative_impact": "double",
    "direction": "varchar",
    "severity": "varchar",
    "explained_by_dimension": "varchar",
    "explained_by_value": "varchar",
    "explained_by_impact": "decimal(38, 6)",
    "detected_as_of_date": "date",
}

# The newest forecast of each series for each day made BEFORE that day (as_of_date <= day: the
# forecast used history strictly before its as-of date); one-step-ahead when every daily partition
# ran, otherwise from the latest earlier partition. Compared with that day's actual spend (0 when
# the series has no rows that day) in the series' billing currency.
_BREACHES_SQL = """
with latest as (
    select * from main.forecast_cost_daily
    where series_dimension = $dimension
        and forecast_date between $first and $last
        and as_of_date <= forecast_date
    qualify row_number() over (
        partition by series_key, forecast_date order by as_of_date desc
    ) = 1
),
actual as (
    select
        coalesce(cast({column} as varchar), '(none)') as series_key,
        billing_currency,
        cast(charge_date as date) as usage_date,
        sum(effective_cost) as actual_cost
    from main.fct_cost_daily
    where charge_date between $first and $last
        and {spend_trend}
    group by all
)
select
    l.series_dimension,
    l.series_key,
    l.billing_currency,
    l.forecast_date as usage_date,
    l.as_of_date as forecast_as_of_date,
    l.model_name,
    cast(coalesce(a.actual_cost, 0) as decimal(38, 6)) as actual_cost,
    l.point as expected_cost,
    l.lower_{coverage} as lower_95,
    l.upper_{coverage} as upper_95
from latest as l
left join actual as a
    on a.series_key = l.series_key and a.usage_date = l.forecast_date and a.billing_currency = l.billing_currency
where coalesce(a.actual_cost, 0) > l.upper_{coverage} or coalesce(a.actual_cost, 0) < l.lower_{coverage}
"""

# For every anomaly and every other dimension value inside the anomaly's slice: the day's cost
# against its own typical cost (mean of the same weekday over the four weeks before; absent = 0).
_EXPLAIN_SQL = """
with days as (
    select
        a.series_key,
        cast(a.usage_date as date) as usage_date,
        a.billing_currency,
        cast(a.usage_date as date) - cast(7 * k as integer) as day,
        k
    from _atlas_anomalies as a, range(0, 5) as r(k)
),
costs as (
    select
        d.series_key, d.usage_date, coalesce(cast(f.{explain_column} as varchar), '(none)') as value,
        sum(case when d.k = 0 then f.effective_cost else 0 end) as actual_cost,
        sum(case when d.k > 0 then f.effective_cost else 0 end) / 4 as typical_cost
    from days as d
    join main.fct_cost_daily as f
        on cast(f.charge_date as date) = d.day
        and coalesce(cast(f.{column} as varchar), '(none)') = d.series_key
        and f.billing_currency = d.billing_currency
        and {spend_trend}
    group by all
)
select series_key, usage_date, '{explain}' as explained_by_dimension, value as explained_by_value,
    cast(actual_cost - typical_cost as decimal(38, 6)) as explained_by_impact
from costs
"""


def severity_of(impact: float, expected: float) -> tuple[float | None, str]:
    """(|impact| / expected, severity): high from 100 % of the expected cost, medium from 25 %;
    high when nothing was expected."""
    if expected <= 0:
        return None, "high"
    relative = abs(impact) / expected
    for name, threshold in SEVERITY_THRESHOLDS:
        if relative >= threshold:
            return relative, name
    return relative, "low"


def find_anomalies(
    con: duckdb.DuckDBPyConnection, first: date, last: date, series: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Anomalies of every declared spend series (default: forecast.yaml's, read now) on the days
    `first` .. `last` (see `_BREACHES_SQL`), each with impact, severity and the other dimension
    value that deviated most from its typical."""
    frames = []
    for dimension in series or load_forecast_settings().series:
        column = SERIES_COLUMNS[dimension]
        sql = _BREACHES_SQL.format(column=column, spend_trend=spend_trend_predicate(), coverage=ANOMALY_COVERAGE)
        breaches = con.execute(sql, {"dimension": dimension, "first": first, "last": last}).df()
        if breaches.empty:
            continue
        con.register("_atlas_anomalies", breaches)
        try:
            parts = [
                con.execute(
                    _EXPLAIN_SQL.format(
                        column=column, explain_column=SERIES_COLUMNS[other], explain=other,
                        spend_trend=spend_trend_predicate("f.charge_category"),
                    )
                ).df()
                for other in EXPLAIN_DIMENSIONS
                if other != dimension
            ]
        finally:
            con.unregister("_atlas_anomalies")
        explain = pd.concat(parts, ignore_index=True)
        # A dimension with a single value inside the slice that day only restates the anomaly.
        values = explain.groupby(["series_key", "usage_date", "explained_by_dimension"])["explained_by_value"]
        explain = explain[values.transform("nunique") > 1]
        if not explain.empty:
            explain["_size"] = explain["explained_by_impact"].map(lambda v: abs(float(v)))
            explain = explain.sort_values(
                ["series_key", "usage_date", "_size", "explained_by_dimension", "explained_by_value"],
                ascending=[True, True, False, True, True],
            ).drop_duplicates(["series_key", "usage_date"])
            explain = explain.drop(columns="_size")
            explain["usage_date"] = pd.to_datetime(explain["usage_date"])
        breaches["usage_date"] = pd.to_datetime(breaches["usage_date"])
        if explain.empty:
            frames.append(breaches.assign(explained_by_dimension=None, explained_by_value=None, explained_by_impact=None))
        else:
            frames.append(breaches.merge(explain, on=["series_key", "usage_date"], how="left"))
    columns = [c for c in _COLUMNS if c != "detected_as_of_date"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out["impact"] = [a - e for a, e in zip(out["actual_cost"], out["expected_cost"], strict=True)]
    graded = [severity_of(float(i), float(e)) for i, e in zip(out["impact"], out["expected_cost"], strict=True)]
    out["relative_impact"] = [r for r, _ in graded]
    out["severity"] = [s for _, s in graded]
    out["direction"] = ["spike" if i > 0 else "drop" for i in out["impact"]]
    out["usage_date"] = out["usage_date"].dt.date
    return out[columns].sort_values(["usage_date", "series_dimension", "series_key"], ignore_index=True)


@forecast_asset(
    deps=[forecast_cost_daily, dg.AssetKey("fct_cost_daily")],
    kinds={"duckdb"},
    declaration="forecast.yaml",
    metadata={"table": "main.cost_anomalies"},
    check_specs=[dg.AssetCheckSpec("no_cost_anomalies", asset="cost_anomalies")],
)
def cost_anomalies(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Days whose actual EffectiveCost fell outside the 95 % interval of a forecast made before them.

    For as-of date D the days D-14 .. D-1 (those the mart already has) are examined per declared
    series (provider, service, team). The forecast compared is the newest one made before the day
    (partition as-of <= day, so its history ended before the day): one-step-ahead when the daily
    partitions all ran, else from the latest earlier as-of partition. Credits and purchases are left
    out, as in the forecast. Each anomaly carries impact (actual − expected), direction, severity
    (|impact| / expected: high ≥ 100 %, medium ≥ 25 %, else low) and the value of another dimension
    (service, team, provider, region, sub-account) whose cost that day deviated most from its own
    typical cost (mean of the same weekday over the four weeks before); dimensions with a single
    value inside the anomaly's slice that day explain nothing and are skipped.

    Writes `main.cost_anomalies`, replacing the examined days. The check `no_cost_anomalies` WARNS
    (never blocks) when there are anomalies in the window.
    """
    as_of = date.fromisoformat(context.partition_key)
    first, last = as_of - timedelta(days=LOOKBACK_DAYS), as_of - timedelta(days=1)
    with warehouse.connect() as con:
        ensure_table(con, "main.cost_anomalies", _COLUMNS)
        if not relation_exists(con, "main", "forecast_cost_daily"):
            raise dg.Failure(description="main.forecast_cost_daily is missing: materialize forecast_cost_daily first")
        anomalies = find_anomalies(con, first, last)
        anomalies["detected_as_of_date"] = as_of
        replace_rows(con, "usage_date between ? and ?", [first, last], {"main.cost_anomalies": anomalies})
    counts = anomalies["severity"].value_counts().to_dict() if len(anomalies) else {}
    top = anomalies.assign(_abs=anomalies["impact"].map(lambda v: abs(float(v))).astype(float)).nlargest(10, "_abs")
    table = (
        "(none)"
        if top.empty
        else top[["usage_date", "series_dimension", "series_key", "actual_cost", "expected_cost", "impact", "severity",
                  "explained_by_dimension", "explained_by_value"]].to_markdown(index=False)
    )  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            DECLARATION_SHA_KEY: declaration_sha256(declaration_file("forecast.yaml")),
            "window": f"{first} .. {last}",
            "anomalies": dg.MetadataValue.int(len(anomalies)),
            "by_severity": dg.MetadataValue.json({k: int(v) for k, v in counts.items()}),
            "largest": dg.MetadataValue.md(table),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="no_cost_anomalies",
                passed=anomalies.empty,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"{len(anomalies)} cost anomalies between {first} and {last}",
                metadata={"anomalies": len(anomalies), "by_severity": {k: int(v) for k, v in counts.items()}},
            )
        ],
    )
