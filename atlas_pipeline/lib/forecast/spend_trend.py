"""Which charges make up the spend trend: everything except the lumps (credits, one-off purchases).

Defined once, in the dbt project's vars (`spend_trend_excluded_charge_categories` in
dbt_project/dbt_project.yml): the rpt_* report models read it through the dbt macro
`is_spend_trend_charge`, the forecast and anomaly code (plain SQL from Python) through this module.
"""

from __future__ import annotations

from functools import cache

from atlas_pipeline.lib.warehouse.dbt_project import dbt_project_vars

VAR_NAME = "spend_trend_excluded_charge_categories"


@cache
def excluded_charge_categories() -> tuple[str, ...]:
    """The FOCUS ChargeCategory values left out of the spend trend (e.g. Credit, Purchase)."""
    return tuple(dbt_project_vars()[VAR_NAME])


def spend_trend_predicate(column: str = "charge_category") -> str:
    """SQL that is true when a row's charge belongs to the trend; NULL-safe like the dbt macro (a
    row without a category stays in)."""
    quoted = ", ".join("'" + category.replace("'", "''") + "'" for category in excluded_charge_categories())
    return f"coalesce({column}, '') not in ({quoted})"
