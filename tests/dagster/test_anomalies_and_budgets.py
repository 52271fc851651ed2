"""Cost anomalies and budget status on a small warehouse whose costs have a weekly rhythm (weekend
dip), a credit, and one injected spike: the spike is an anomaly explained by the right team and
service, weekends are not; budget numbers equal SQL sums over fct_cost_daily to the cent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

from atlas_pipeline.defs.forecast.anomalies import cost_anomalies
from atlas_pipeline.defs.forecast.assets import forecast_cost_daily
from atlas_pipeline.defs.forecast.budgets import budget_status
from atlas_pipeline.defs.forecast.partitions import add_as_of_dates
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.forecast.budgets import load_budgets
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = pytest.mark.dagster

START = date(2026, 7, 1)
AS_OF = date(2026, 9, 26)  # forecast partition: history 2026-07-01 .. 2026-09-25
SPIKE_DAY = date(2026, 10, 1)  # a Thursday
SPIKE = 900.0
LAST_DAY = date(2026, 10, 5)
# (team, service) -> weekday level; weekends cost 40 % less.
CELLS = {("ml-research", "Compute"): 300.0, ("ml-research", "Storage"): 80.0, ("web", "Storage"): 60.0}


def build_warehouse(path: Path) -> None:
    rng = np.random.default_rng(11)
    rows = []
    day = START
    while day <= LAST_DAY:
        for (team, service), level in CELLS.items():
            cost = level * (0.6 if day.weekday() >= 5 else 1.0) * (1 + rng.normal(0, 0.01))
            if day == SPIKE_DAY and (team, service) == ("ml-research", "Compute"):
                cost += SPIKE
            rows.append((day, team, service, "Usage", round(cost, 6)))
        day += timedelta(days=1)
    rows.append((date(2026, 9, 10), "ml-research", "Compute", "Credit", -123.456789))
    with connect(path) as con:
        con.execute(
            """
            create table main.fct_cost_daily (
                charge_date date, provider_name varchar, billing_account_id varchar, sub_account_id varchar,
                service_name varchar, service_category varchar, region_id varchar, team varchar,
                charge_category varchar, billing_currency varchar, billed_cost decimal(38, 12),
                effective_cost decimal(38, 12), line_items bigint
            )
            """
        )
        con.executemany(
            "insert into main.fct_cost_daily values (?, 'Microsoft', 'acct', 'sub', ?, 'Compute', 'eastus', ?, ?, "
            "'USD', ?, ?, 1)",
            [(d, s, t, c, v, v) for d, t, s, c, v in rows],
        )


@pytest.fixture(scope="module")
def materialized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, dg.ExecuteInProcessResult]:
    home = tmp_path_factory.mktemp("atlas")
    build_warehouse(home / "warehouse.duckdb")
    warehouse = Warehouse(atlas_home=str(home))
    instance = dg.DagsterInstance.ephemeral()
    add_as_of_dates(instance, [AS_OF.isoformat(), (LAST_DAY + timedelta(days=1)).isoformat()])
    resources = {"warehouse": warehouse}
    assert dg.materialize(
        [forecast_cost_daily, budget_status], partition_key=AS_OF.isoformat(), resources=resources, instance=instance
    ).success
    # Anomalies of the days up to LAST_DAY, against the forecast made as of AS_OF.
    result = dg.materialize(
        [cost_anomalies], partition_key=(LAST_DAY + timedelta(days=1)).isoformat(), resources=resources, instance=instance
    )
    assert result.success
    return warehouse, result


@pytest.fixture
def warehouse(materialized: tuple[Warehouse, dg.ExecuteInProcessResult]) -> Warehouse:
    return materialized[0]


def test_spike_is_an_anomaly_and_weekend_dips_are_not(materialized: tuple[Warehouse, dg.ExecuteInProcessResult]):
    warehouse, result = materialized
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "select series_dimension, series_key, usage_date, forecast_as_of_date, actual_cost, expected_cost, impact, "
            "severity, direction, explained_by_dimension, explained_by_value, explained_by_impact "
            "from main.cost_anomalies order by all"
        ).fetchall()
        examined = con.execute(
            "select count(distinct forecast_date) from main.forecast_cost_daily "
            "where as_of_date = ? and forecast_date <= ?", [AS_OF, LAST_DAY]
        ).fetchone()[0]  # fmt: skip
    assert examined == (LAST_DAY - AS_OF).days + 1  # weekends 09-26/27 and 10-03/04 were examined
    spike = {(r[0], r[1]): r for r in rows if r[2] == SPIKE_DAY}
    assert set(spike) == {("provider", "Microsoft"), ("team", "ml-research"), ("service", "Compute")}
    for _, _, _, as_of, actual, expected, impact, severity, direction, *_ in spike.values():
        assert as_of == AS_OF and direction == "spike" and impact == actual - expected
        assert impact == pytest.approx(Decimal(SPIKE), rel=Decimal("0.1"))
        assert severity in ("medium", "high")
    # The provider-level spike is explained by the team or service that carried it.
    provider = spike[("provider", "Microsoft")]
    assert (provider[9], provider[10]) in {("team", "ml-research"), ("service", "Compute")}
    assert float(provider[11]) == pytest.approx(SPIKE, rel=0.1)
    # The team's spike is explained by its service (the provider restates the team: skipped).
    assert spike[("team", "ml-research")][9:11] == ("service", "Compute")
    assert not [r for r in rows if r[2].weekday() >= 5]  # weekend dips are expected, not anomalies
    # A 95 % interval is breached by chance on about 1 day in 20: such noise may appear, but only
    # as low severity (the spike day's series are medium or high).
    assert all(r[7] == "low" for r in rows if r[2] != SPIKE_DAY)
    check = result.get_asset_check_evaluations()[0]
    assert check.check_name == "no_cost_anomalies" and not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN


def test_budget_status_equals_sql_sums_to_the_cent(warehouse: Warehouse):
    month_start, month_end = date(2026, 9, 1), date(2026, 10, 1)
    with warehouse.connect(read_only=True) as con:
        status = {
            r[0]: r[1:]
            for r in con.execute(
                "select budget_name, budget_month, budget_amount, actual_to_date, forecast_rest_of_month, "
                "projected_month_end, overrun_probability, projected_over, note from main.budget_status "
                "where as_of_date = ?", [AS_OF]
            ).fetchall()
        }  # fmt: skip
        sums = {}
        budgets = load_budgets()
        for budget in budgets:
            actual = con.execute(
                f"select sum(effective_cost) from main.fct_cost_daily where {budget.column} = ? "
                "and billing_currency = ? and charge_date >= ? and charge_date < ?",
                [budget.value, budget.currency, month_start, AS_OF],
            ).fetchone()[0]
            rest = con.execute(
                "select sum(point) from main.forecast_cost_daily where series_dimension = ? and series_key = ? "
                "and as_of_date = ? and forecast_date < ?",
                [budget.scope, budget.value, AS_OF, month_end],
            ).fetchone()[0]
            sums[budget.name] = (actual, rest)
    assert set(status) == {b.name for b in budgets}
    for budget in budgets:
        month, amount, actual, rest, projected, probability, over, note = status[budget.name]
        assert month == month_start and amount == budget.amount
        expected_actual, expected_rest = sums[budget.name]
        if expected_actual is None:  # a declared scope the warehouse does not have
            assert actual == 0 and projected is None and "no forecast" in note
            continue
        assert round(actual, 2) == round(expected_actual, 2) and actual == expected_actual
        assert round(projected, 2) == round(expected_actual + expected_rest, 2)
        assert rest == expected_rest and 0 <= probability <= 1 and over == (projected > amount)
    # The credit counts against the month (it was spent less).
    assert (
        status["ml-research-monthly"][2]
        < sum(Decimal(str(level)) for (team, _), level in CELLS.items() if team == "ml-research") * 25
    )
