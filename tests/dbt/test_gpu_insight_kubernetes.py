"""Issue 22 on a Kubernetes-only estate (no Slurm at all): idle cost by cause for a pod, read from
dcgm-exporter's pod mapping and node_exporter, and the node's score written only as Kubernetes
labels. One host `k-0` (cluster `k8s-a`, 8 x H100, 2.00 USD per GPU-hour), 2026-11-06 00:00-03:00,
DCGM every 60 s, node_exporter every 15 s:

    GPUs 0-3 pod ml-platform/trainer-0: 00-01 activity 0.9 (disk 0.3 GB/s), 01-02 0.05 while the
    disk reads at its 2 GB/s ceiling, 02-03 0.0 with the disk quiet (100 kB/s)
    GPUs 4-7 no pod; GPU 6 raises XID 79 at 01:00 and reads nothing else after

The next day k-0's GPU 6 reads nothing at all (off the bus), its other GPUs idle and healthy; a
second host `k-1` idles, healthy, both days.

Idle cost of the pod (12 GPU-hours allocated = 24.00 USD): underused while busy 4 x 0.1 = 0.4
GPU-hours = 0.80 USD, waiting on input 4 x 0.95 = 3.8 = 7.60 USD, job idle 4 x 1.0 = 4.0 = 8.00 USD.
k-0 scores 0 (failed, Slurm weight 101) both days: the first for the XID, the next because one of
its 8 GPUs no longer reports (its 7 others score 100); k-1 scores 100 both days. Written for
Kubernetes only."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.dbt

DAY, NEXT_DAY = date(2026, 11, 6), date(2026, 11, 7)
HOST, CLUSTER, MODEL = "k-0", "k8s-a", "NVIDIA H100 80GB HBM3"
POD_GPUS, XID_GPU = range(4), 6
GB = 1e9


def range_json(result: list[dict]) -> bytes:
    return gzip.compress(json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}).encode())


def start_of(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def dcgm_export(host: str, day: date) -> bytes:
    """A host-day of dcgm-exporter series (00:00-03:00): k-0's pod and XID on DAY, as above; else idle."""
    sec = np.arange(0, 3 * 3600, 60)
    hour = sec // 3600
    with_pod = host == HOST and day == DAY
    pod_activity = np.select([hour == 0, hour == 1], [0.9, 0.05], 0.0)
    result = []
    for g in range(8):
        if host == HOST and day == NEXT_DAY and g == XID_GPU:
            continue  # off the bus: DCGM no longer sees it
        activity = pod_activity if with_pod and g in POD_GPUS else np.zeros(len(sec))
        busy = activity >= 0.3
        fields = {
            "DCGM_FI_PROF_GR_ENGINE_ACTIVE": activity,
            "DCGM_FI_DEV_GPU_UTIL": np.rint(activity * 100),
            "DCGM_FI_DEV_SM_CLOCK": np.where(busy, 1980.0, 345.0),
            "DCGM_FI_DEV_POWER_USAGE": np.where(busy, 650.0, 70.0),
            "DCGM_FI_DEV_GPU_TEMP": np.where(busy, 66.0, 32.0),
            "DCGM_FI_DEV_CLOCKS_EVENT_REASONS": np.where(busy, 0.0, 1.0),
            "DCGM_FI_DEV_XID_ERRORS": np.zeros(len(sec)),
        }
        read = np.ones(len(sec), dtype=bool)
        if with_pod and g == XID_GPU:  # fallen off the bus: the XID gauge is all DCGM still reads
            fields["DCGM_FI_DEV_XID_ERRORS"] = np.where(hour >= 1, 79.0, 0.0)
            read = hour < 1
        labels = {"gpu": str(g), "UUID": f"GPU-{host}-{g}", "modelName": MODEL, "Hostname": host, "job": "dcgm"}
        if with_pod and g in POD_GPUS:
            labels |= {"pod": "trainer-0", "namespace": "ml-platform", "container": "pytorch"}
        for name, values in fields.items():
            keep = read | (name == "DCGM_FI_DEV_XID_ERRORS")
            result.append({"metric": {"__name__": name, **labels},
                           "values": [[start_of(day) + int(s), f"{v:.6f}"]
                                      for s, v, k in zip(sec, values, keep, strict=True)
                                      if k]})
    return range_json(result)


def node_exporter_export() -> bytes:
    sec = np.arange(0, 3 * 3600, 15)
    rate = np.select([sec < 3600, sec < 7200], [0.3 * GB, 2.0 * GB], 1e5)
    counter = np.concatenate([[5e12], 5e12 + np.cumsum(rate * 15)])[: len(sec)]
    return range_json([{"metric": {"__name__": "node_disk_read_bytes_total", "device": "nvme0n1",
                                   "instance": f"{HOST}:9100", "nodename": HOST, "job": "node"},
                        "values": [[start_of(DAY) + int(s), f"{c:.1f}"] for s, c in zip(sec, counter, strict=True)]}])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, land_estate, stand_in_absent_relations, dbt, telemetry_subgraph) -> Path:
    root = tmp_path_factory.mktemp("gpu_insight_k8s")
    telemetry = root / "exports" / "telemetry"
    (telemetry / "inventory").mkdir(parents=True)
    (telemetry / "inventory" / "nodes.csv").write_text(
        f"hostname,cluster,gpu_model,gpu_count\n{HOST},{CLUSTER},{MODEL},8\nk-1,{CLUSTER},{MODEL},8\n")
    exports = [("prometheus", day, host, dcgm_export(host, day)) for day in (DAY, NEXT_DAY) for host in (HOST, "k-1")]
    for folder, day, host, body in [*exports, ("node_exporter", DAY, HOST, node_exporter_export())]:
        path = telemetry / folder / CLUSTER / day.isoformat() / f"{host}.json.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    assets = root / "assets"
    assets.mkdir()
    (assets / "gpu_pricing.yaml").write_text(
        f'currency: USD\nclusters:\n  - cluster: {CLUSTER}\n    price_per_gpu_hour: "2.00"\n'
        "    effective_from: 2026-01-01\n")
    (assets / "kubernetes_teams.yaml").write_text('rules:\n  - namespace: "ml-platform"\n    team: ml-platform\n')
    land_estate(root / "exports", root / "warehouse.duckdb", root,
                {"gpu_nodes", "dcgm_prometheus_exports", "node_exporter_prometheus_exports"}, assets=assets)
    stand_in_absent_relations(root / "warehouse.duckdb")  # the Slurm tables ingest writes with no sacct
    result = dbt(root / "warehouse.duckdb", root, "build", "--indirect-selection", "cautious",
                 "--select", *telemetry_subgraph)
    assert result.returncode == 0, result.stdout[-6000:]
    return root


def test_a_pods_idle_cost_is_split_by_cause(home, query) -> None:
    db = home / "warehouse.duckdb"
    rows = query(db, "select team, idle_cause, round(gpu_hours_idle, 6), idle_cost from main.fct_gpu_idle_cost_by_cause "
                     "order by idle_cause")
    assert [(t, c, h, cost.quantize(Decimal("0.01"))) for t, c, h, cost in rows] == [
        ("ml-platform", "job_idle", 4.0, Decimal("8.00")),
        ("ml-platform", "underused_while_busy", 0.4, Decimal("0.80")),
        ("ml-platform", "waiting_on_input", 3.8, Decimal("7.60")),
    ]
    (allocated,), = query(db, "select sum(idle_cost_allocated_unused) from main.fct_gpu_cost_allocation "
                              "where allocation_type = 'job'")
    assert allocated.quantize(Decimal("0.01")) == Decimal("16.40")
    # no Slurm accounting: nothing to place, nothing stranded, and no error
    assert query(db, "select count(*) from main.fct_gpu_job_placement") == [(0,)]
    assert query(db, "select count(*) from main.fct_gpu_fragmentation_daily") == [(0,)]


def test_the_node_score_goes_to_kubernetes_only(home, query) -> None:
    import dagster as dg

    from atlas_pipeline.defs.report.scheduler_hints import gpu_scheduler_hints
    from atlas_pipeline.defs.resources import Warehouse

    db = home / "warehouse.duckdb"
    assert query(db, "select usage_date, hostname, gpus_scored, gpus_missing, score, health, slurm_weight, scheduler "
                     "from main.fct_gpu_node_scores_daily order by 1, 2") == [
        (DAY, HOST, 8, 0, 0, "failed", 101, "kubernetes"),
        (DAY, "k-1", 8, 0, 100, "healthy", 1, "kubernetes"),
        # GPU 6 reads nothing: the 7 that report are healthy, the node is not
        (NEXT_DAY, HOST, 7, 1, 0, "failed", 101, "kubernetes"),
        (NEXT_DAY, "k-1", 8, 0, 100, "healthy", 1, "kubernetes"),
    ]
    assert query(db, "select min(score) from main.fct_gpu_scores_daily where usage_date = ? and hostname = ?",
                 [NEXT_DAY, HOST]) == [(100,)]
    assert dg.materialize([gpu_scheduler_hints], resources={"warehouse": Warehouse(atlas_home=str(home))}).success
    latest = home / "reports" / "scheduler" / "latest"
    assert f"kubectl label node {HOST} --overwrite atlas.gpu/score=0 atlas.gpu/health=failed" in (
        latest / "kubernetes" / f"{CLUSTER}.sh").read_text()
    assert not (latest / "slurm").exists()
