"""The rpt_* report models on small hand-made warehouses: each budget is drawn once (the newest
as-of date, however many daily runs wrote rows), the report views build before the forecast and
quality stages have written anything (and read as empty), and the spend-trend exclusion is one
definition for dbt and the forecast code."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.forecast.spend_trend import excluded_charge_categories, spend_trend_predicate
from atlas_pipeline.lib.report import report_queries as q

pytestmark = pytest.mark.dbt

# The report models that read another stage's tables (forecasts, quality, landing).
STAGE_READERS = (
    "rpt_budget_status", "rpt_cost_anomalies", "rpt_forecast_cost_daily", "rpt_forecast_gpu_hours_daily",
    "rpt_forecast_summary", "rpt_data_quality_by_stage", "rpt_source_freshness",
)

BUDGET_STATUS = """
create table main.budget_status (
    budget_name varchar, scope varchar, scope_value varchar, billing_currency varchar, budget_month date,
    as_of_date date, days_elapsed integer, days_in_month integer, budget_amount decimal(38, 6),
    actual_to_date decimal(38, 6), forecast_rest_of_month decimal(38, 6), projected_month_end decimal(38, 6),
    projected_month_end_upper_80 decimal(38, 6), budget_used double, already_over boolean, projected_over boolean,
    overrun_probability double, note varchar
)
"""


def _build(dbt, db: Path, work: Path, *models: str) -> None:
    result = dbt(db, work, "build", "--select", *models)
    assert result.returncode == 0, result.stdout[-4000:]


def test_each_budget_is_drawn_once_for_the_newest_as_of_date(tmp_path: Path, dbt, fetch_rows) -> None:
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute(BUDGET_STATUS)
    # Three daily runs: the 70,000 budget has three rows; summing them (the overview's old bug)
    # would draw 210,000. 'retired' was dropped from budgets.yaml before the newest run.
    for as_of, actual in (("2026-10-24", "50100.10"), ("2026-10-25", "52000.55"), ("2026-11-01", "66037.95")):
        con.execute(
            "insert into main.budget_status (budget_name, scope, scope_value, billing_currency, budget_month, "
            "as_of_date, budget_amount, actual_to_date) values ('aws-monthly', 'provider', 'Amazon Web Services', "
            "'USD', '2026-10-01', ?, 70000, ?)",
            [as_of, actual],
        )
    con.execute(
        "insert into main.budget_status (budget_name, scope, scope_value, billing_currency, budget_month, as_of_date, "
        "budget_amount, actual_to_date) values ('retired', 'team', 'old', 'USD', '2026-10-01', '2026-10-25', 500, 1)"
    )
    con.close()
    _build(dbt, db, tmp_path, "rpt_budget_status")

    [row] = fetch_rows(db, "select * from reports.rpt_budget_status")
    assert (row["budget_name"], str(row["as_of_date"])) == ("aws-monthly", "2026-11-01")
    assert row["budget_amount"] == Decimal("70000") and row["actual_to_date"] == Decimal("66037.95")
    con = duckdb.connect(str(db), read_only=True)
    try:
        shown = q.rows(con, q.budgets())
        assert [(r["budget_name"], r["budget_amount"]) for r in shown] == [("aws-monthly", Decimal("70000.00"))]
        assert q.rows(con, q.budgets("provider", "Amazon Web Services")) == shown
        assert q.rows(con, q.budgets("team", "old")) == []
    finally:
        con.close()


def test_report_models_build_before_the_forecast_and_quality_stages_ran(tmp_path: Path, dbt, fetch_rows) -> None:
    """A fresh warehouse (no forecast, quality or landing tables): the views build, their tests
    pass, and they read as empty instead of failing."""
    db = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(db)).close()
    _build(dbt, db, tmp_path, *STAGE_READERS)
    for model in STAGE_READERS:
        assert fetch_rows(db, f"select count(*) as n from reports.{model}") == [{"n": 0}], model


def test_a_report_view_reads_the_table_once_the_stage_has_run(tmp_path: Path, dbt, fetch_rows) -> None:
    """The stand-in is replaced when report_job rebuilds the view after the stage wrote its table."""
    db = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(db)).close()
    _build(dbt, db, tmp_path, "rpt_budget_status")
    con = duckdb.connect(str(db))
    con.execute(BUDGET_STATUS)
    con.execute("insert into main.budget_status (budget_name, as_of_date, budget_amount) values ('b', '2026-11-01', 9)")
    con.close()
    assert fetch_rows(db, "select count(*) as n from reports.rpt_budget_status") == [{"n": 0}]
    _build(dbt, db, tmp_path, "rpt_budget_status")
    assert fetch_rows(db, "select budget_name from reports.rpt_budget_status") == [{"budget_name": "b"}]


@pytest.mark.parametrize("column", ["charge_category", "f.charge_category"])
def test_the_spend_trend_exclusion_is_one_definition(tmp_path: Path, column: str, dbt) -> None:
    """The forecast code's SQL predicate and the dbt macro the report models use are the same text
    from the same list (dbt_project.yml vars), and the forecast asset uses that list."""
    from atlas_pipeline.defs.forecast.assets import daily_sql

    assert excluded_charge_categories() == ("Credit", "Purchase")
    assert spend_trend_predicate("charge_category") in daily_sql("provider_name")
    db = tmp_path / "warehouse.duckdb"
    result = dbt(db, tmp_path, "compile", "--quiet", "--inline", f"{{{{ is_spend_trend_charge('{column}') }}}}")
    assert result.returncode == 0, result.stdout[-2000:]
    assert re.sub(r"\s+", "", result.stdout) == re.sub(r"\s+", "", spend_trend_predicate(column))
    # NULL-safe: a charge without a category stays in the trend.
    con = duckdb.connect()
    kept = con.execute(
        f"select count(*) from (values ('Usage'), ('Credit'), ('Purchase'), (null)) as t(charge_category) "
        f"where {spend_trend_predicate()}"
    ).fetchone()[0]
    assert kept == 2
