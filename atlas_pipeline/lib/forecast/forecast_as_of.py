"""The as-of dates a forecast can be made for, derived from the history the warehouse holds.

A forecast as of date D uses the history strictly before D, so the dates that make sense run from
the day after the first day of data to the day after the last: whatever was landed, however old
(no fixed start date to fall outside of). They become the forecast assets' dynamic partitions.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from atlas_pipeline.lib.warehouse.connections import relation_exists

# The Dagster dynamic partitions definition of every forecast asset.
FORECAST_PARTITIONS_NAME = "forecast_as_of_dates"

# The daily histories forecasts read (mart -> its date column), spend first: it sets the default.
HISTORIES = {"fct_cost_daily": "charge_date", "fct_gpu_hours_daily": "usage_date"}


def history_spans(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[date, date]]:
    """(first day, last day) of each daily history mart that exists and has rows."""
    spans = {}
    for mart, column in HISTORIES.items():
        if not relation_exists(con, "main", mart):
            continue
        sql = f"select min(cast({column} as date)), max(cast({column} as date)) from main.{mart}"
        first, last = con.execute(sql).fetchone()
        if first is not None:
            spans[mart] = (first, last)
    return spans


def as_of_dates(spans: dict[str, tuple[date, date]]) -> list[date]:
    """Every day from the day after the first day of any history to the day after the last one."""
    if not spans:
        return []
    start = min(first for first, _ in spans.values()) + timedelta(days=1)
    end = max(last for _, last in spans.values()) + timedelta(days=1)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def default_as_of(spans: dict[str, tuple[date, date]]) -> date | None:
    """The day after the last cost day (the newest full history of spend); with no cost history,
    the day after the last GPU-hours day; None without any history."""
    for mart in HISTORIES:
        if mart in spans:
            return spans[mart][1] + timedelta(days=1)
    return None
