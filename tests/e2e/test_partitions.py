"""Partitions a Dagster user can see and drive, on a real (on-disk) Dagster instance and a hand-made
estate of three billing months from three providers (tests/e2e/real_estates.py):

- the billing periods exist as partitions once delivered — from any year, none that nothing
  delivered — and every billing asset is materialized per period;
- a restated month is seen by its source's delivery sensor, which requests exactly that partition
  (and a new month: adds its partition first);
- a backfill of that one month, launched the way the UI launches it (`dagster asset materialize
  --partition`, a real run on the instance), rebuilds that month only: its rows are the restated
  delivery's, the other months keep their rows and their load stamps; dbt got the month (in
  ATLAS_DBT_PARTITIONS); the marts are then exactly what a full rebuild of every month builds;
- after the partition run, `warehouse_after_partitions` refreshes exactly what depends on it;
- a new telemetry day is one telemetry partition, and the other days stay as they were.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
from real_estates import FIXTURES, query_warehouse, write_estate

from atlas_pipeline.lib.settings import REPO_ROOT, AtlasPaths

pytestmark = pytest.mark.e2e

AZURE_SEPTEMBER = "azure/costexports/atlas/atlas-actual/20230901-20230930"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory):
    """Three billing months (2022-08 GCP, 2023-09 Azure, 2023-11 AWS) built once, on a Dagster
    instance kept on disk (as `dg dev` and `atlas run` share one under $ATLAS_HOME/dagster)."""
    root = tmp_path_factory.mktemp("partitions")
    home, assets = root / "home", root / "assets"
    mp = pytest.MonkeyPatch()
    env = {"ATLAS_HOME": str(home), "ATLAS_EXPORTS": str(home / "exports"), "ATLAS_ASSETS": str(assets),
           "ATLAS_WAREHOUSE": str(home / "warehouse.duckdb"), "DAGSTER_HOME": str(home / "dagster")}
    for key, value in env.items():
        mp.setenv(key, value)
    expected = write_estate("billing_without_telemetry", home / "exports", assets)
    paths = AtlasPaths.from_env().ensure()
    (paths.dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    from atlas_pipeline.definitions import defs
    from atlas_pipeline.lib.run.pipeline_run import refresh_warehouse

    definitions = defs()
    with dg.DagsterInstance.get() as instance:
        first = refresh_warehouse(paths, instance, definitions)
        assert first.success, [e.message for e in first.all_events if e.is_failure]
        yield paths, instance, definitions, expected, env
    mp.undo()


@pytest.fixture(autouse=True)
def _isolated_homes(estate, monkeypatch: pytest.MonkeyPatch):
    """Every test here works on the module's estate (tests/conftest.py would give each its own home)."""
    for key, value in estate[4].items():
        monkeypatch.setenv(key, value)


def test_billing_periods_are_the_delivered_months_and_every_billing_asset_is_built_per_month(estate):
    paths, instance, definitions, _, _ = estate
    assert instance.get_dynamic_partitions("billing_periods") == ["2022-08", "2023-09", "2023-11"]
    graph = definitions.resolve_asset_graph()
    billing = [k for k in graph.get_all_asset_keys() if (graph.get(k).tags or {}).get("partitioned_by") == "billing_periods"]
    assert {dg.AssetKey("focus_cost_and_usage"), dg.AssetKey("fct_cost_daily"), dg.AssetKey(["raw", "aws_cur_legacy"]),
            dg.AssetKey("stg_azure__cost_details_actual")} <= set(billing)
    for key in billing:
        assert instance.get_materialized_partitions(key) == {"2022-08", "2023-09", "2023-11"}, key
    # Telemetry: nothing delivered, no partitions, no "missing" days.
    assert instance.get_dynamic_partitions("telemetry_days") == []


def test_the_delivery_sensor_requests_exactly_the_restated_and_the_new_month(estate):
    paths, instance, definitions, _, _ = estate
    from atlas_pipeline.defs.ingest.sensors import build_delivery_sensor
    from atlas_pipeline.defs.resources import Warehouse
    from atlas_pipeline.lib.ingest.sources import load_sources

    [azure] = [s for s in load_sources() if s.name == "azure_cost_details_actual"]
    sensor = build_delivery_sensor(azure)
    with dg.build_sensor_context(instance=instance, resources={"warehouse": Warehouse()}) as context:
        assert isinstance(sensor(context), dg.SkipReason)  # nothing new yet

    # Azure restates September: a new run folder, three lines fewer (the newest delivery wins).
    header, *rows = list(csv.reader(io.StringIO((FIXTURES / "azure_ea_actualcost_2023-09.csv").read_text("utf-8-sig"))))
    restated = rows[:-3]
    target = paths.exports / AZURE_SEPTEMBER / "9e2b-rerun" / "part_0_0001.csv"
    target.parent.mkdir(parents=True)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *restated])
    # ... and delivers October for the first time (a copy of September's lines, dated October).
    october = paths.exports / "azure/costexports/atlas/atlas-actual/20231001-20231031/51f0-run/part_0_0001.csv"
    october.parent.mkdir(parents=True)
    text = (FIXTURES / "azure_ea_actualcost_2023-09.csv").read_text("utf-8-sig")
    october.write_text(text.replace("09/01/2023", "10/01/2023").replace("09/30/2023", "10/31/2023")
                       .replace("09/", "10/"), encoding="utf-8")

    with dg.build_sensor_context(instance=instance, resources={"warehouse": Warehouse()}) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    [add] = result.dynamic_partitions_requests
    assert add.partitions_def_name == "billing_periods" and list(add.partition_keys) == ["2023-10"]
    requested = sorted((r.job_name, r.tags.get("dagster/partition")) for r in result.run_requests)
    assert requested == [("billing_job", "2023-09"), ("billing_job", "2023-10")]  # two runs: not contiguous
    assert all(r.run_key for r in result.run_requests)
    october.unlink()  # the backfill below is of September only
    october.parent.rmdir()
    pytest.restated_rows = restated  # for the next test (same module, runs in order)


def test_a_backfill_of_one_month_rebuilds_that_month_only(estate):
    """`dagster asset materialize --partition 2023-09` on the billing assets — what the UI's
    "Materialize" of one partition launches — in its own process, on the on-disk instance."""
    paths, instance, _, expected, env = estate
    restated = getattr(pytest, "restated_rows", None)
    assert restated is not None, "runs after test_the_delivery_sensor_requests_exactly_the_restated_and_the_new_month"

    def by_period() -> dict[str, tuple]:
        return {p: (n, loaded) for p, n, loaded in query_warehouse(
            paths.warehouse,
            "select x_billing_period, count(*), max(x_loaded_at) from main.focus_cost_and_usage group by 1")}

    def daily_loaded() -> dict[str, object]:
        return dict(query_warehouse(
            paths.warehouse, "select billing_period, max(loaded_at) from main.fct_cost_daily group by 1"))

    before, daily_before = by_period(), daily_loaded()
    dagster = Path(sys.executable).parent / "dagster"
    done = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "atlas_pipeline.definitions",
         "--select", "tag:partitioned_by=billing_periods", "--partition", "2023-09"],
        cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    after, daily_after = by_period(), daily_loaded()
    # September is the restated delivery's, whole; the other months untouched (rows and load stamp).
    assert after["2023-09"][0] == len(restated) and after["2023-09"][1] > before["2023-09"][1]
    def others(values: dict) -> dict:
        return {p: v for p, v in values.items() if p != "2023-09"}

    assert others(after) == others(before) and set(others(after)) == {"2022-08", "2023-11"}
    assert daily_after["2023-09"] > daily_before["2023-09"]
    assert others(daily_after) == others(daily_before)
    cost = Decimal(str(query_warehouse(paths.warehouse, "select sum(\"BilledCost\") from main.focus_cost_and_usage "
                                               "where x_billing_period = '2023-09'")[0][0]))
    header = list(csv.reader(io.StringIO((FIXTURES / "azure_ea_actualcost_2023-09.csv").read_text("utf-8-sig"))))[0]
    assert cost == sum(Decimal(r[header.index("Cost")]) for r in restated)
    assert cost != expected.cost["azure_cost_details_actual"]
    # The run: every materialization of partition 2023-09, and dbt got the month as a var.
    [run] = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": "2023-09"}), limit=1)
    partitions = {e.dagster_event.partition for e in instance.all_logs(
        run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)}
    assert partitions == {"2023-09"}
    messages = " ".join(e.message for e in instance.all_logs(run.run_id))
    assert 'ATLAS_DBT_PARTITIONS={"billing_periods": ["2023-09"]}' in messages
    pytest.backfill_run_id = run.run_id


def test_after_the_partition_run_the_downstream_refresh_is_exactly_what_depends_on_it(estate):
    paths, instance, definitions, _, _ = estate
    from atlas_pipeline.defs.transform.downstream import warehouse_after_partitions

    run = instance.get_run_by_id(pytest.backfill_run_id)
    context = dg.build_run_status_sensor_context(
        sensor_name="warehouse_after_partitions", dagster_instance=instance, dagster_run=run,
        dagster_event=next(e.dagster_event for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)),
        repository_def=definitions.get_repository_def(),
    )
    request = warehouse_after_partitions(context)
    assert isinstance(request, dg.RunRequest) and request.run_key == f"downstream-of-{run.run_id}"
    selected = {k.to_user_string() for k in request.asset_selection}
    assert {"cost_by_team_monthly", "billing_row_conservation", "data_quality_summary"} <= selected
    assert not selected & {"fx_rates", "raw/gpu_nodes", "stg_cluster__gpu_nodes", "focus_cost_and_usage"}


def test_the_restated_month_built_alone_equals_a_full_rebuild(estate):
    """After the one-month backfill, the billing marts (and the views over them) hold exactly what a
    full refresh of every period from the same deliveries builds, the build stamps aside."""
    paths, instance, definitions, _, _ = estate
    from atlas_pipeline.lib.run.pipeline_run import refresh_warehouse

    queries = {
        "focus_cost_and_usage": "select * exclude (x_loaded_at) from main.focus_cost_and_usage order by all",
        "fct_cost_daily": "select * exclude (loaded_at) from main.fct_cost_daily order by all",
        "cost_by_team_monthly": "select * from main.cost_by_team_monthly order by all",
    }

    def marts() -> dict[str, list[tuple]]:
        return {name: query_warehouse(paths.warehouse, sql) for name, sql in queries.items()}

    incremental = marts()
    assert {p for p, *_ in query_warehouse(paths.warehouse, "select distinct billing_period from main.fct_cost_daily")} == {
        "2022-08", "2023-09", "2023-11"}
    rebuilt = refresh_warehouse(paths, instance, definitions, full_refresh=True)
    assert rebuilt.success, [e.message for e in rebuilt.all_events if e.is_failure]
    assert sorted(rebuilt.plan.keys("billing_periods")) == ["2022-08", "2023-09", "2023-11"]
    assert marts() == incremental


def _shift_prometheus_day(source: Path, target: Path, seconds: int) -> None:
    """A Prometheus range-query export moved `seconds` later (the next day's scrape of the same fleet)."""
    body = json.loads(gzip.decompress(source.read_bytes()))
    for series in body["data"]["result"]:
        series["values"] = [[t + seconds, v] for t, v in series["values"]]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(gzip.compress(json.dumps(body).encode()))


def test_a_new_telemetry_day_is_one_partition_and_the_other_days_stay(tmp_path, monkeypatch):
    """An on-prem fleet's Prometheus exports, one day built; the next day arrives: one telemetry
    partition runs, and the first day's hourly rows are untouched."""
    home, assets = tmp_path / "home", tmp_path / "assets"
    for key, value in {"ATLAS_HOME": str(home), "ATLAS_EXPORTS": str(home / "exports"), "ATLAS_ASSETS": str(assets),
                       "ATLAS_WAREHOUSE": str(home / "warehouse.duckdb"), "DAGSTER_HOME": str(home / "dagster")}.items():
        monkeypatch.setenv(key, value)
    write_estate("gpu_telemetry_only", home / "exports", assets)
    paths = AtlasPaths.from_env().ensure()
    from atlas_pipeline.lib.run.pipeline_run import refresh_warehouse

    with dg.instance_for_test() as instance:
        first = refresh_warehouse(paths, instance)
        assert first.success, [e.message for e in first.all_events if e.is_failure]
        assert instance.get_dynamic_partitions("telemetry_days") == ["2026-06-10"]
        hourly = "select usage_date, count(*), sum(energy_kwh) from main.fct_gpu_usage_hourly group by 1 order by 1"
        day_one = query_warehouse(paths.warehouse, hourly)
        for path in (home / "exports/telemetry/prometheus").glob("*/2026-06-10/*.json.gz"):
            _shift_prometheus_day(path, path.parent.parent / "2026-06-11" / path.name, 86_400)
        second = refresh_warehouse(paths, instance)
        assert second.success, [e.message for e in second.all_events if e.is_failure]
        [telemetry] = second.job_results("telemetry_job")
        assert telemetry.dagster_run.tags.get("dagster/partition") == "2026-06-11"
        assert second.job_results("billing_job") == []
        both = query_warehouse(paths.warehouse, hourly)
        assert both[0] == day_one[0] and [str(r[0]) for r in both] == ["2026-06-10", "2026-06-11"]
        assert instance.get_dynamic_partitions("telemetry_days") == ["2026-06-10", "2026-06-11"]
