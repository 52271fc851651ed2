"""Issue 16's on-prem fleet (tests/dbt/onprem_h100_fleet.py) with two of its hosts missing from the
inventory, as when nodes are racked or replaced before nodes.csv is updated: gpu-node-01 (its GPU 6
raises XID 79) and gpu-node-02 (its GPU 5 throttles thermally), both in job A's NodeList. Their
faults must still be events, with the cluster Slurm ran the job on, and the XID GPU must be
`failed` — not a quiet fleet with the fault left out; the gap itself is a warning."""

from __future__ import annotations

import json
from pathlib import Path

import onprem_h100_fleet as fleet
import pytest

pytestmark = pytest.mark.dbt

MISSING = {fleet.XID_GPU[0], fleet.THROTTLED[0]}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, land_estate, dbt, telemetry_subgraph) -> Path:
    root = tmp_path_factory.mktemp("uninventoried")
    fleet.write_fleet(root / "exports", root / "my_assets", 60)
    inventory = root / "exports" / "telemetry" / "inventory" / "nodes.csv"
    lines = inventory.read_text().splitlines()
    inventory.write_text("\n".join(line for line in lines if line.split(",")[0] not in MISSING) + "\n")
    warehouse = root / "warehouse.duckdb"
    land_estate(root / "exports", warehouse, root, {"gpu_nodes", "slurm_jobs", "dcgm_prometheus_exports"},
                assets=root / "my_assets")
    result = dbt(warehouse, root, "build", "--indirect-selection", "cautious", "--select", *telemetry_subgraph,
                 "assert_gpu_hosts_in_inventory")
    assert result.returncode == 0, result.stdout[-6000:]
    results = {r["unique_id"].split(".")[2]: (r["status"], r["failures"])
               for r in json.loads((root / "target" / "run_results.json").read_text())["results"]}
    assert results["assert_gpu_hosts_in_inventory"] == ("warn", 2)
    return warehouse


def test_faults_of_hosts_missing_from_the_inventory_are_events_with_slurms_cluster(db, query) -> None:
    events = query(db, "select event_type, cluster, hostname, gpu_index, measure_value from main.gpu_health_events "
                       "where hostname in (?, ?) and gpu_index is not null order by 1", sorted(MISSING))
    assert events == [
        ("thermal_throttle", fleet.CLUSTER, *fleet.THROTTLED, events[0][4]),
        ("xid_fatal", fleet.CLUSTER, *fleet.XID_GPU, 79.0),
    ]
    (status,), = query(db, "select health_status from main.fct_gpu_health_daily where hostname = ? and gpu_index = ?",
                       list(fleet.XID_GPU))
    assert status == "failed"


def test_their_hosts_take_the_cluster_from_slurm(db, query) -> None:
    rows = query(db, "select hostname, cluster, cluster_from from intermediate.int_gpu_host_clusters "
                     "where cluster_from = 'slurm' order by 1")
    assert rows == [(host, fleet.CLUSTER, "slurm") for host in sorted(MISSING)]
