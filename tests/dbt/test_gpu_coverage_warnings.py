"""What the GPU marts cannot count is said, not dropped silently: the warning tests that list
telemetry from hosts the inventory does not name, GPU allocations no GPU-hour counts, and
inventory rows that collide. Each runs (`dbt test`) on hand-made relations with the rows a real
fleet produces — a node racked before the inventory was updated, a sacct export without NodeList,
a months-long inference allocation, two ParallelCluster clusters with the same node names."""

from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = pytest.mark.dbt

TABLES = {
    "intermediate.int_gpu_samples": (
        {"hostname": "varchar", "sample_at": "timestamptz", "hpc_job_id": "varchar", "k8s_pod": "varchar",
         "held_share": "double"},
        [("a-0", "2026-11-05 05:00:00+00", "4", None, 1.0),        # inventoried
         ("ghost-9", "2026-11-05 05:00:00+00", "4", None, 1.0),    # not inventoried, Slurm ran job 4 on it
         ("lost-1", "2026-11-05 05:00:00+00", "77", None, 1.0),    # neither names it
         ("lost-1", "2026-11-05 05:00:30+00", None, "p", 1.0),
         ("new-31", "2026-11-05 05:00:00+00", None, None, 0.0)],   # racked, idle, not yet inventoried
    ),
    "staging.stg_cluster__gpu_nodes": ({"hostname": "varchar", "cluster": "varchar"},
                                       [("a-0", "mix"), ("gpu-st-p5-1", "pc-b"), ("gpu-st-p5-2", "pc-a")]),
    "intermediate.int_slurm_job_nodes": (
        {"job_key": "varchar", "cluster": "varchar", "hostname": "varchar", "node_list_problem": "varchar",
         "started_at": "timestamp", "allocated_until": "timestamp"},
        [("mix:4", "mix", "a-0", None, "2026-11-05 05:00:00", "2026-11-05 06:00:00"),
         ("mix:4", "mix", "ghost-9", None, "2026-11-05 05:00:00", "2026-11-05 06:00:00"),
         ("mix:5", "mix", None, "no NodeList exported", "2026-11-05 05:00:00", "2026-11-05 06:00:00"),
         ("mix:881", "mix", "a-0", None, "2025-07-20 09:00:00", "2026-11-06 00:00:00")],  # > 366 days
    ),
    "staging.stg_slurm__jobs": (
        {"job_key": "varchar", "cluster": "varchar", "started_at": "timestamp", "gpu_count": "integer",
         "state": "varchar", "state_raw": "varchar"},
        [("mix:4", "mix", "2026-11-05 05:00:00", 8, "COMPLETED", "COMPLETED"),
         ("mix:6", "mix", None, 4, "RUNNING", "RUNNING"),     # Start not readable
         ("mix:7", "mix", None, 4, "PENDING", "PENDING")],    # pending: holds nothing yet
    ),
    "raw.gpu_nodes": (
        {"hostname": "varchar", "cluster": "varchar", "x_source_file": "varchar"},
        [("gpu-st-p5-1", "pc-a", "nodes.csv"), ("gpu-st-p5-1 ", "pc-b", "nodes.csv"),
         ("gpu-st-p5-2", "pc-a", "nodes.csv"), ("gpu-st-p5-2", "pc-a", "nodes-old.csv")],
    ),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, dbt, write_relations) -> dict:
    work = tmp_path_factory.mktemp("coverage_warnings")
    warehouse = work / "warehouse.duckdb"
    write_relations(warehouse, TABLES)
    with duckdb.connect(str(warehouse)) as con:
        # as int_gpu_job_readings resolves them: a-0 from the inventory, ghost-9 from sacct's NodeList
        con.execute("create table intermediate.int_gpu_job_readings as select 'mix' as cluster, * "
                    "from intermediate.int_gpu_samples where hostname in ('a-0', 'ghost-9')")
    tests = ["assert_gpu_hosts_in_inventory", "assert_gpu_allocations_counted", "assert_gpu_inventory_hostnames_unique"]
    result = dbt(warehouse, work, "test", "--select", *tests, "--store-failures")
    assert result.returncode == 0, result.stdout[-4000:]  # warnings, not failures
    outcome = {r["unique_id"].split(".")[2]: (r["status"], r["failures"])
               for r in json.loads((work / "target" / "run_results.json").read_text())["results"]}
    return {"outcome": outcome, "warehouse": warehouse}


def _failures(results, test: str) -> list[tuple]:
    with duckdb.connect(str(results["warehouse"]), read_only=True) as con:
        [(schema,)] = con.execute("select table_schema from information_schema.tables where table_name = ?",
                                  [test]).fetchall()
        return con.execute(f"select * from {schema}.{test} order by all").fetchall()


def test_hosts_reporting_telemetry_outside_the_inventory_are_listed(results) -> None:
    assert results["outcome"]["assert_gpu_hosts_in_inventory"] == ("warn", 3)
    rows = {r[0]: (r[1], r[2], r[-1]) for r in _failures(results, "assert_gpu_hosts_in_inventory")}
    # host: (readings, job-labelled readings, job readings measured) — a-0 is inventoried, not listed
    assert rows == {"ghost-9": (1, 1, True), "lost-1": (2, 2, False), "new-31": (1, 0, False)}


def test_allocations_no_gpu_hour_counts_are_listed_with_the_reason(results) -> None:
    assert results["outcome"]["assert_gpu_allocations_counted"] == ("warn", 3)
    reasons = {job: reason for job, _, reason in _failures(results, "assert_gpu_allocations_counted")}
    assert reasons == {
        "mix:5": "no host: no NodeList exported",
        "mix:6": "start time not readable (state RUNNING)",
        "mix:881": "allocated longer than gpu_max_job_hours (8784)",
    }


def test_a_hostname_on_two_clusters_in_one_inventory_file_is_listed(results) -> None:
    assert results["outcome"]["assert_gpu_inventory_hostnames_unique"] == ("warn", 1)
    assert _failures(results, "assert_gpu_inventory_hostnames_unique") == [("nodes.csv", "gpu-st-p5-1", 2, "pc-b")]
