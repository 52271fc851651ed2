"""What a warehouse table looks like, for the Dagster UI: rows, money totals, period covered, top rows.

Computed in DuckDB after a build; money totals stay DECIMAL and are grouped by the table's currency
column when it has one (amounts in different currencies are never added up).
"""

from __future__ import annotations

from typing import Any

import duckdb

# First match wins; names as the marts spell them (FOCUS PascalCase or snake_case).
DATE_COLUMNS = ("charge_date", "usage_date", "ChargePeriodStart", "forecast_date", "billing_month", "hour_start")
CURRENCY_COLUMNS = ("BillingCurrency", "billing_currency", "currency")
MONEY_COLUMNS = (
    "BilledCost", "EffectiveCost", "billed_cost", "effective_cost",
    "paid_cost", "used_cost", "idle_cost", "unmeasured_cost", "allocated_cost", "utilization_weighted_cost", "point",
)
PREVIEW_ROWS = 5
PREVIEW_COLUMNS = 8


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _markdown(columns: list[str], rows: list[tuple]) -> str:
    def cell(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def describe_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> dict[str, Any] | None:
    """Row count, money totals (per currency), date range and a markdown preview of `schema.name`.

    Returns None when the relation does not exist. Views are described too; callers choose which
    relations are cheap enough (the marts are tables or views over tables)."""
    columns = {
        column: kind
        for column, kind in con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, name],
        ).fetchall()
    }
    if not columns:
        return None
    relation = f"{_quote(schema)}.{_quote(name)}"
    money = [c for c in MONEY_COLUMNS if c in columns and columns[c].startswith("DECIMAL")]
    date_column = next((c for c in DATE_COLUMNS if c in columns), None)
    currency = next((c for c in CURRENCY_COLUMNS if c in columns), None)

    facts: dict[str, Any] = {"row_count": con.execute(f"select count(*) from {relation}").fetchone()[0]}
    if date_column:
        low, high = con.execute(
            f"select min({_quote(date_column)}), max({_quote(date_column)}) from {relation}"
        ).fetchone()
        facts["period"] = {"column": date_column, "first": str(low) if low is not None else None,
                           "last": str(high) if high is not None else None}
    if money:
        sums = ", ".join(f"round(sum({_quote(c)}), 2)" for c in money)
        key = _quote(currency) if currency else "'(no currency column)'"
        rows = con.execute(f"select {key}, {sums} from {relation} group by 1 order by 1").fetchall()
        facts["cost_totals"] = {
            str(row[0]): {column: str(value) for column, value in zip(money, row[1:], strict=True)} for row in rows
        }
    shown = list(columns)[:PREVIEW_COLUMNS]
    order = f"order by {_quote(money[-1])} desc nulls last" if money else ""
    preview = con.execute(
        f"select {', '.join(_quote(c) for c in shown)} from {relation} {order} limit {PREVIEW_ROWS}"
    ).fetchall()
    facts["preview"] = _markdown(shown, preview)
    return facts
