"""Budget status: each declared monthly budget against actual-to-date and the projected month end."""

from datetime import date
from decimal import Decimal

import dagster as dg
import pandas as pd

from atlas_pipeline.defs.forecast.assets import forecast_cost_daily
from atlas_pipeline.defs.forecast.partitions import forecast_asset
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.forecast.budgets import budgets_file, load_budgets, overrun_probability
from atlas_pipeline.lib.forecast.tables import ensure_table, replace_rows
from atlas_pipeline.lib.periods import budget_month
from atlas_pipeline.lib.run.run_plan import DECLARATION_SHA_KEY, declaration_sha256
from atlas_pipeline.lib.settings import declaration_file

_COLUMNS = {
    "budget_name": "varchar",
    "scope": "varchar",
    "scope_value": "varchar",
    "billing_currency": "varchar",
    "budget_month": "date",
    "as_of_date": "date",
    "days_elapsed": "integer",
    "days_in_month": "integer",
    "budget_amount": "decimal(38, 6)",
    "actual_to_date": "decimal(38, 6)",
    "forecast_rest_of_month": "decimal(38, 6)",
    "projected_month_end": "decimal(38, 6)",
    "projected_month_end_upper_80": "decimal(38, 6)",
    "budget_used": "double",
    "already_over": "boolean",
    "projected_over": "boolean",
    "overrun_probability": "double",
    "note": "varchar",
}

# Everything charged in the month so far, credits and purchases included: that is what the budget
# is spent on. (The forecast of the rest of the month models usage only; see forecast_cost_daily.)
_ACTUAL_SQL = """
select coalesce(sum(effective_cost), 0)
from main.fct_cost_daily
where {column} = ? and billing_currency = ? and charge_date >= ? and charge_date < ?
"""

_FORECAST_SQL = """
select point, lower_80, upper_80, billing_currency
from main.forecast_cost_daily
where series_dimension = ? and series_key = ? and as_of_date = ? and forecast_date < ?
order by forecast_date
"""




@forecast_asset(
    deps=[forecast_cost_daily, dg.AssetKey("fct_cost_daily")],
    kinds={"duckdb"},
    declaration="budgets.yaml",
    metadata={"table": "main.budget_status"},
)
def budget_status(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Each monthly budget of `budgets.yaml` (by provider, service or team tag, in billing currency;
    no file: no budgets) against the month's actual EffectiveCost to date and its projected month end.

    The month is the one holding the day before the as-of date. Actual-to-date sums every charge
    of the scope in the budget's currency from the 1st up to the day before the as-of date (credits
    included: they reduce what is spent). The rest of the month comes from this partition's spend
    forecast of the same series (point, and the 80 % upper bound summed as a pessimistic total).
    `overrun_probability` is a normal approximation from the daily 80 % intervals (see
    `atlas_pipeline.lib.forecast.budgets.overrun_probability`). A scope without a forecast (refused, or not a
    declared series) gets actuals only and a note saying why. Money is DECIMAL(38, 6).
    """
    as_of = date.fromisoformat(context.partition_key)
    start, end = budget_month(as_of)
    through = min(as_of, end)
    declared_in = budgets_file()
    rows = []
    with warehouse.connect() as con:
        for budget in load_budgets(declared_in):
            actual = con.execute(
                _ACTUAL_SQL.format(column=budget.column), [budget.value, budget.currency, start, through]
            ).fetchone()[0]
            actual = Decimal(actual)
            note = None
            try:
                forecast = con.execute(_FORECAST_SQL, [budget.scope, budget.value, as_of, end]).fetchall()
            except Exception as exc:  # no forecast table yet
                forecast, note = [], f"no forecast table: {exc}"
            if forecast and forecast[0][3] != budget.currency:
                forecast, note = [], f"forecast is in {forecast[0][3]}, the budget in {budget.currency}"
            remaining = (end - through).days
            if remaining and not forecast and note is None:
                note = f"no forecast for {budget.scope} {budget.value!r} as of {as_of} (see main.forecast_runs)"
            rest = sum((Decimal(r[0]) for r in forecast), Decimal(0))
            rest_upper = sum((Decimal(r[2]) for r in forecast), Decimal(0))
            projected = actual + rest if (forecast or not remaining) else None
            points = [float(r[0]) for r in forecast]
            bounds = [(float(r[1]), float(r[2])) for r in forecast]
            probability = overrun_probability(actual, points, bounds, budget.amount) if projected is not None else None
            rows.append(
                {
                    "budget_name": budget.name,
                    "scope": budget.scope,
                    "scope_value": budget.value,
                    "billing_currency": budget.currency,
                    "budget_month": start,
                    "as_of_date": as_of,
                    "days_elapsed": (through - start).days,
                    "days_in_month": (end - start).days,
                    "budget_amount": budget.amount,
                    "actual_to_date": actual,
                    "forecast_rest_of_month": rest if projected is not None else None,
                    "projected_month_end": projected,
                    "projected_month_end_upper_80": actual + rest_upper if projected is not None else None,
                    "budget_used": float(actual / budget.amount),
                    "already_over": actual > budget.amount,
                    "projected_over": None if projected is None else projected > budget.amount,
                    "overrun_probability": probability,
                    "note": note,
                }
            )
        status = pd.DataFrame(rows, columns=list(_COLUMNS))
        ensure_table(con, "main.budget_status", _COLUMNS)
        replace_rows(con, "as_of_date = ?", [as_of], {"main.budget_status": status})
    over = sorted(r["budget_name"] for r in rows if r["projected_over"] or r["already_over"])
    if over:
        context.log.warning(f"budgets projected over in {start:%Y-%m}: {over}")
    preview = status[["budget_name", "budget_amount", "actual_to_date", "projected_month_end", "overrun_probability"]]
    return dg.MaterializeResult(
        metadata={
            DECLARATION_SHA_KEY: declaration_sha256(declaration_file("budgets.yaml")),
            "declared_in": str(declared_in or "(no budgets.yaml in the declarations folder)"),
            "budget_month": start.strftime("%Y-%m"),
            "budgets": dg.MetadataValue.int(len(rows)),
            "projected_over": dg.MetadataValue.json(over),
            "status": dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "(no budgets declared)"),
        }
    )
