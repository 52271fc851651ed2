"""The short summary printed after a run: rows per mart, cost per provider, check outcomes."""

from __future__ import annotations

import duckdb


def mart_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows in every table of the `main` schema (the marts, forecasts and reports)."""
    tables = [
        r[0] for r in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'main' and table_type = 'BASE TABLE' order by 1"
        ).fetchall()
    ]
    return {t: con.execute(f'select count(*) from main."{t}"').fetchone()[0] for t in tables}


def cost_by_provider(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(provider, billing currency, billed cost, effective cost) from the FOCUS mart."""
    return con.execute(
        """
        select ProviderName, BillingCurrency, sum(BilledCost), sum(EffectiveCost)
        from main.focus_cost_and_usage
        group by all
        order by 1, 2
        """
    ).fetchall()


def format_summary(
    con: duckdb.DuckDBPyConnection, warehouse_path: str, check_lines: list[str], published_path: str | None = None
) -> str:
    lines = ["", "Atlas run summary", "=================", "Rows per mart:"]
    for table, rows in mart_row_counts(con).items():
        lines.append(f"  {table:<32} {rows:>12,}")
    lines.append("Cost per provider (FOCUS BilledCost / EffectiveCost):")
    for provider, currency, billed, effective in cost_by_provider(con):
        lines.append(f"  {provider:<24} {currency}  billed {billed:>16,.2f}   effective {effective:>16,.2f}")
    if check_lines:
        lines.append("Checks:")
        lines.extend(f"  {line}" for line in check_lines)
    lines.append(f"Warehouse: {warehouse_path}")
    if published_path:
        lines.append(f"Published read-only snapshot (what readers query): {published_path}")
    lines.append('Query it:  atlas sql "select * from focus_cost_and_usage limit 5"')
    if published_path:
        lines.append(f"       or:  any DuckDB client, read-only: duckdb -readonly {published_path}")
    return "\n".join(lines)
