"""The forecast asset on a tiny warehouse: forecasts for long series, a stated refusal for a short
one, credits left out, and an idempotent partition; its schedule, its as-of dates (derived from the
data, however old) and its declaration."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
import yaml

from atlas_pipeline.defs.forecast.assets import forecast_cost_daily, forecast_job, forecast_schedule
from atlas_pipeline.defs.forecast.partitions import (
    add_as_of_dates,
    forecast_as_of_dates_after_refresh,
    forecast_partitions,
    register_history_as_of_dates,
)
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.forecast.forecast_as_of import FORECAST_PARTITIONS_NAME
from atlas_pipeline.lib.forecast.forecast_settings import load_forecast_settings
from atlas_pipeline.lib.ingest.sources import DeclarationError
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = pytest.mark.dagster

START = date(2026, 8, 1)
AS_OF = START + timedelta(days=60)  # 2026-09-30: history is 2026-08-01 .. 2026-09-29


def build_warehouse(path: Path) -> None:
    """`main.fct_cost_daily`: 60 days for two providers, 5 days for a third, one large credit, and a
    fourth provider billed in two currencies."""
    rng = np.random.default_rng(5)
    rows = []
    for provider, level in (("Amazon Web Services", 400.0), ("Google Cloud", 150.0)):
        for i in range(60):
            cost = level + 2 * i + 40 * (i % 7 in (5, 6)) * -1 + rng.normal(0, 8)
            rows.append((START + timedelta(days=i), provider, "Usage", round(cost, 2), "USD"))
    rows += [(AS_OF - timedelta(days=5 - i), "Microsoft", "Usage", 12.5, "USD") for i in range(5)]
    rows += [(START + timedelta(days=i), "Oracle", "Usage", 3.0, ("USD", "EUR")[i % 2]) for i in range(40)]
    rows.append((START + timedelta(days=30), "Amazon Web Services", "Credit", -50000.0, "USD"))
    rows.append((AS_OF, "Amazon Web Services", "Usage", 10**9, "USD"))  # on the as-of date: not history
    with connect(path) as con:
        con.execute(
            """
            create table main.fct_cost_daily (
                charge_date date, provider_name varchar, billing_account_id varchar, service_name varchar,
                team varchar, charge_category varchar, billing_currency varchar,
                billed_cost decimal(38, 12), effective_cost decimal(38, 12), line_items bigint
            )
            """
        )
        con.executemany(
            "insert into main.fct_cost_daily values (?, ?, 'acct', 'Compute', 'ml', ?, ?, ?, ?, 1)",
            [(d, p, c, currency, v, v) for d, p, c, v, currency in rows],
        )


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    build_warehouse(tmp_path / "warehouse.duckdb")
    return Warehouse(atlas_home=str(tmp_path))


def materialize(warehouse: Warehouse, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    add_as_of_dates(instance, [AS_OF.isoformat()])
    return dg.materialize(
        [forecast_cost_daily], partition_key=AS_OF.isoformat(), resources={"warehouse": warehouse}, instance=instance
    )


def test_forecasts_long_series_refuses_short_one_and_rerun_replaces(warehouse: Warehouse):
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(warehouse, instance)
    assert result.success
    with warehouse.connect(read_only=True) as con:
        counts = dict(con.execute("select series_key, count(*) from main.forecast_cost_daily "
            "where series_dimension = 'provider' group by 1").fetchall())
        first = con.execute(
            "select min(forecast_date), max(forecast_date), bool_and(lower_95 >= 0 and lower_95 <= point "
            "and point <= upper_95), max(upper_95) from main.forecast_cost_daily"
        ).fetchone()
        runs = {r[0]: r[1:] for r in con.execute(
            "select series_key, history_days, model_name, backtest_mae, refused_reason, billing_currency "
            "from main.forecast_runs where as_of_date = ? and series_dimension = 'provider'", [AS_OF]
        ).fetchall()}
        point_type = con.execute(
            "select data_type from information_schema.columns "
            "where table_name = 'forecast_cost_daily' and column_name = 'point'"
        ).fetchone()[0]
        before = con.execute("select count(*), sum(point) from main.forecast_cost_daily").fetchone()
        metrics = con.execute(
            "select series_key, model_name, chosen, mase, coverage_80, coverage_95 from main.forecast_backtest_metrics "
            "where series_dimension = 'provider' order by all"
        ).fetchall()
        chosen = dict(con.execute(
            "select series_key, model_name from main.forecast_runs where model_name is not null"
        ).fetchall())

    horizon = load_forecast_settings().horizon_days
    assert counts == {"Amazon Web Services": horizon, "Google Cloud": horizon}
    assert first[0] == AS_OF and first[1] == AS_OF + timedelta(days=horizon - 1) and first[2]
    assert first[3] < 10_000  # neither the as-of day's cost nor the credit shaped the forecast
    assert point_type == "DECIMAL(38,6)"
    assert runs["Microsoft"] == (5, None, None, "only 5 days of history; need at least 28", "USD")
    assert runs["Oracle"] == (60, None, None, "billed in several currencies (EUR, USD); they are not summed", None)
    assert runs["Amazon Web Services"][0] == 60 and runs["Amazon Web Services"][1] is not None
    assert runs["Google Cloud"][2] is not None and runs["Google Cloud"][3] is None
    # Backtest metrics: every candidate for both forecast providers; the chosen one has the lowest
    # MASE (seasonal naive's own MASE is 1 by definition) and is the model forecast_runs names.
    assert {(k, m) for k, m, *_ in metrics} == {
        (k, m) for k in ("Amazon Web Services", "Google Cloud") for m in ("seasonal_naive_7", "theta_7", "ets_aaa_7")
    }
    for key in ("Amazon Web Services", "Google Cloud"):
        rows = [r for r in metrics if r[0] == key]
        best = min(rows, key=lambda r: r[3])
        assert best[2] and best[1] == chosen[key] and sum(r[2] for r in rows) == 1
        assert next(r for r in rows if r[1] == "seasonal_naive_7")[3] == pytest.approx(1.0)
        assert all(0 <= r[4] <= r[5] <= 1 for r in rows)

    metadata = result.asset_materializations_for_node("forecast_cost_daily")[0].metadata
    assert metadata["series_forecast"].value == 2
    assert metadata["series_refused"].value["provider"]["Microsoft"] == "only 5 days of history; need at least 28"
    assert set(metadata["series_refused"].value["provider"]) == {"Microsoft", "Oracle"}
    assert metadata["horizon_days"].value == horizon
    projection = metadata["month_end_projection"].value["provider"]["Google Cloud"]
    assert projection["month"] == "2026-09" and projection["forecast_reaches_month_end"]
    expected_total = projection["actual_to_date"] + projection["forecast_rest_of_month"]
    assert projection["projected_total"] == pytest.approx(expected_total)
    assert "| series_key" in metadata["preview"].value
    plot = metadata["plot"].value
    assert plot.count("](data:image/png;base64,iVBORw0KGgo") == 2  # one PNG per forecast provider
    quarter = metadata["quarter_end_projection"].value["provider"]["Google Cloud"]
    assert quarter["quarter"] == "2026-Q3" and quarter["projected_total"] == pytest.approx(
        quarter["actual_to_date"] + quarter["forecast_rest_of_quarter"]
    )
    # The service and team series mix Oracle's EUR with USD: refused, not summed across currencies.
    assert set(metadata["series_refused"].value["service"]) == {"Compute"}

    assert materialize(warehouse, instance).success  # same partition again
    with warehouse.connect(read_only=True) as con:
        after = con.execute("select count(*), sum(point) from main.forecast_cost_daily").fetchone()
        run_rows = con.execute("select count(*) from main.forecast_runs").fetchone()[0]
    assert after == before
    assert run_rows == 6  # 4 providers, 1 service, 1 team


def test_schedule_requests_yesterday_and_adds_it_when_missing():
    """06:00 UTC on 2026-10-02 forecasts as of 2026-10-01; that as-of date is added first if the
    refresh has not (a run can only target an existing dynamic partition)."""
    defs = dg.Definitions(
        assets=[forecast_cost_daily], jobs=[forecast_job], schedules=[forecast_schedule],
        resources={"warehouse": Warehouse()},
    )
    schedule = defs.resolve_schedule_def("forecast_daily")
    assert (schedule.cron_schedule, schedule.job_name) == ("0 6 * * *", "forecast_job")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert forecast_job.partitions_def == forecast_partitions
    with dg.instance_for_test() as instance:
        assert instance.get_dynamic_partitions(FORECAST_PARTITIONS_NAME) == []
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 10, 2, 6, 0, tzinfo=UTC),
            repository_def=defs.get_repository_def(),
        )
        data = schedule.evaluate_tick(context)
        assert [r.partition_key for r in data.run_requests] == ["2026-10-01"]
        assert instance.get_dynamic_partitions(FORECAST_PARTITIONS_NAME) == ["2026-10-01"]
        schedule.evaluate_tick(context)  # again: the date is not added twice
        assert instance.get_dynamic_partitions(FORECAST_PARTITIONS_NAME) == ["2026-10-01"]


def test_as_of_dates_come_from_the_data_however_old(tmp_path: Path):
    """Costs in 2025-09 .. 2025-11 (before any fixed start the repository could pick) and GPU-hours
    to 2025-12-03: the as-of dates run from the day after the first day to the day after the last,
    and the partition after the last cost day forecasts without an unknown-partition error."""
    old_start = date(2025, 9, 1)
    with connect(tmp_path / "warehouse.duckdb") as con:
        con.execute(
            "create table main.fct_cost_daily (charge_date date, provider_name varchar, billing_account_id varchar, "
            "service_name varchar, team varchar, charge_category varchar, billing_currency varchar, "
            "billed_cost decimal(38, 12), effective_cost decimal(38, 12), line_items bigint)"
        )
        con.executemany(
            "insert into main.fct_cost_daily values (?, 'Microsoft', 'acct', 'Compute', 'ml', 'Usage', 'USD', ?, ?, 1)",
            [(old_start + timedelta(days=i), 100 + i % 7, 100 + i % 7) for i in range(91)],  # through 2025-11-30
        )
        con.execute("create table main.fct_gpu_hours_daily (usage_date date, cluster varchar, gpu_hours_allocated double)")
        con.execute("insert into main.fct_gpu_hours_daily values ('2025-12-03', 'lab', 8.0)")
    warehouse = Warehouse(atlas_home=str(tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    with warehouse.connect(read_only=True) as con:
        added = register_history_as_of_dates(instance, con)
        assert register_history_as_of_dates(instance, con) == []  # idempotent
    assert added[0] == "2025-09-02" and added[-1] == "2025-12-04" and len(added) == 94
    assert instance.get_dynamic_partitions(FORECAST_PARTITIONS_NAME) == added
    result = dg.materialize(
        [forecast_cost_daily], partition_key="2025-12-01", resources={"warehouse": warehouse}, instance=instance
    )
    assert result.success
    with warehouse.connect(read_only=True) as con:
        first_day = con.execute("select min(forecast_date) from main.forecast_cost_daily").fetchone()[0]
    assert first_day == date(2025, 12, 1)


def test_refresh_sensor_adds_the_as_of_dates_of_the_landed_history(warehouse: Warehouse, monkeypatch):
    """After a successful refresh run the sensor adds the newest as-of date the landed history
    supports (partitions exist only for dates that are forecast, not one per day of history), then
    nothing."""
    monkeypatch.setenv("ATLAS_HOME", warehouse.atlas_home)

    @dg.op
    def noop() -> None: ...

    @dg.job(name="warehouse_refresh_job")
    def refresh() -> None:
        noop()

    with dg.instance_for_test() as instance:
        result = refresh.execute_in_process(instance=instance)
        context = dg.build_run_status_sensor_context(
            sensor_name="forecast_as_of_dates_after_refresh", dagster_instance=instance,
            dagster_run=result.dagster_run, dagster_event=result.get_run_success_event(),
        )
        answer = forecast_as_of_dates_after_refresh(context)
        [request] = answer.dynamic_partitions_requests
        assert request.partitions_def_name == FORECAST_PARTITIONS_NAME
        # build_warehouse: costs 2026-08-01 .. 2026-09-30, so the newest as-of date is the day after.
        assert list(request.partition_keys) == ["2026-10-01"]
        instance.add_dynamic_partitions(FORECAST_PARTITIONS_NAME, list(request.partition_keys))
        assert isinstance(forecast_as_of_dates_after_refresh(context), dg.SkipReason)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"horizon_days": 0}, "horizon_days"),
        ({"coverages": [0.8, 95]}, "coverages"),
        ({"min_history_days": 7}, "min_history_days"),
        ({"series": ["provider", "colour"]}, "series"),
        ({"horizon": 30}, "horizon"),
    ],
)
def test_declaration_errors_name_the_file_and_the_field(tmp_path: Path, change: dict, field: str):
    declared = yaml.safe_load((DECLARATIONS_DIR / "forecast.yaml").read_text())
    path = tmp_path / "forecast.yaml"
    path.write_text(yaml.safe_dump({**declared, **change}))
    with pytest.raises(DeclarationError) as error:
        load_forecast_settings(path)
    assert str(path) in str(error.value) and f"'{field}'" in str(error.value)


def test_every_problem_is_listed_and_partitions_start_is_accepted_but_ignored(tmp_path: Path):
    path = tmp_path / "forecast.yaml"
    path.write_text("horizon_days: 0\ncoverages: [0.8, 95]\nmin_history_days: 28\npartitions_start: 2026-08-01\n")
    with pytest.raises(DeclarationError) as error:
        load_forecast_settings(path)
    assert len(error.value.problems) == 3  # horizon_days, coverages, series missing
    assert all(line.startswith(f"{path}: field ") for line in error.value.problems)
    path.write_text("horizon_days: 30\ncoverages: [0.8]\nmin_history_days: 28\npartitions_start: whenever\nseries: [team]\n")
    assert load_forecast_settings(path).series == ("team",)


def test_forecast_settings_come_from_atlas_assets_else_the_repository(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ATLAS_ASSETS", str(tmp_path))
    assert load_forecast_settings().declared_in == str(DECLARATIONS_DIR / "forecast.yaml")  # none there: defaults
    (tmp_path / "forecast.yaml").write_text("horizon_days: 7\ncoverages: [0.9]\nmin_history_days: 14\nseries: [team]\n")
    settings = load_forecast_settings()
    assert (settings.horizon_days, settings.series, settings.declared_in) == (7, ("team",), str(tmp_path / "forecast.yaml"))


def _forecast_tables(warehouse: Warehouse) -> dict[str, list]:
    with warehouse.connect(read_only=True) as con:
        return {
            "forecasts": con.execute("select * from main.forecast_cost_daily order by all").fetchall(),
            "runs": con.execute("select * from main.forecast_runs order by all").fetchall(),
            "metrics": con.execute("select * from main.forecast_backtest_metrics order by all").fetchall(),
        }


def test_a_rerun_refits_only_the_series_whose_history_changed_and_equals_a_fresh_fit(tmp_path: Path):
    """A restated day of Google Cloud's spend: the partition re-run keeps the forecasts of the series
    whose input is unchanged and refits the others; the tables are then exactly those of a first
    fit on the restated history (another warehouse)."""
    restate = "update main.fct_cost_daily set effective_cost = effective_cost + 75 " \
              "where provider_name = 'Google Cloud' and charge_date = ?"
    rerun, fresh = Warehouse(atlas_home=str(tmp_path / "rerun")), Warehouse(atlas_home=str(tmp_path / "fresh"))
    for w in (rerun, fresh):
        Path(w.atlas_home).mkdir()
        build_warehouse(Path(w.atlas_home) / "warehouse.duckdb")
    instance = dg.DagsterInstance.ephemeral()

    def kept(result: dg.ExecuteInProcessResult) -> int:
        return result.asset_materializations_for_node("forecast_cost_daily")[0].metadata["series_kept"].value

    assert kept(materialize(rerun, instance)) == 0
    first = _forecast_tables(rerun)
    assert kept(materialize(rerun, instance)) == 6  # nothing changed: every series kept, the tables as they were
    assert _forecast_tables(rerun) == first
    for w in (rerun, fresh):
        with w.connect() as con:
            con.execute(restate, [AS_OF - timedelta(days=3)])
    # Google Cloud, and the service and team series that sum it, are refitted; AWS, Microsoft, Oracle kept.
    assert kept(materialize(rerun, instance)) == 3
    assert kept(materialize(fresh, dg.DagsterInstance.ephemeral())) == 0
    restated = _forecast_tables(rerun)
    assert restated == _forecast_tables(fresh)
    assert restated["forecasts"] != first["forecasts"]
