"""MIG (Multi-Instance GPU) telemetry from dcgm-exporter: a GPU split into instances is one physical
GPU whose time is shared by the pods holding its instances, each in proportion to its compute slices
(an H100 has 7: `Ng.` = N of 7). On a MIG GPU the exporter emits only per-instance series, labelled
with the parent GPU plus GPU_I_PROFILE / GPU_I_ID; GR_ENGINE_ACTIVE is relative to the instance,
GPU_UTIL reads 0, and device fields (power, temperature, clocks, XID) repeat the whole GPU's value on
every instance (NVIDIA/dcgm-exporter issues 216, 317, 369, 687; NVIDIA MIG User Guide). One host
`m-0` (cluster `k8s-mig`, 2 x H100, 2.00 USD per GPU-hour), 2026-11-06 00:00-02:00, one scrape every
60 s (120 scrapes):

    GPU 0 (MIG)  GI 1  3g.40gb  pod infer/llm-0     activity 0.8   FB 30000 MiB
                 GI 5  2g.20gb  pod infer/embed-0   activity 0.5   FB 15000
                 GI 13 1g.10gb  pod research/nb-0   activity 0.2   FB  5000
                 GI 14 1g.10gb  no pod              activity 0.0   FB     0
                 every instance: power 400 W, 60 C, 1980 MHz, XID 0 then 31 from 01:00
    GPU 1 (whole) pod train/trainer-0, activity 0.9, GPU_UTIL 90, 650 W, 66 C

GPU-hours over the 2 hours: llm-0 2 x 3/7 = 6/7, embed-0 2 x 2/7 = 4/7, nb-0 2 x 1/7 = 2/7,
trainer-0 2; active: 6/7 x 0.8, 4/7 x 0.5, 2/7 x 0.2, 2 x 0.9 = 1.8. GPU 0 per hour: 3600 s sampled
(not 4 x), activity (3 x 0.8 + 2 x 0.5 + 1 x 0.2 + 1 x 0) / 7 = 3.6/7, 400 W = 0.4 kWh (not 1.6).
The XID 31 is one event. Cost: the node costs 2 x 2.00 x 2 h = 8.00 USD; GPU 0's 4.00 splits 3/7,
2/7, 1/7 to the pods (team inference 5/7 x 4 = 2.857 = 2.86, research 1/7 x 4 = 0.57), the free
1g.10gb slice's 1/7 x 4 = 0.57 stays unallocated (2/7 GPU-hours), GPU 1's 4.00 goes to training."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.dbt

DAY, HOST, CLUSTER, MODEL = date(2026, 11, 6), "m-0", "k8s-mig", "NVIDIA H100 80GB HBM3"
START = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp())
SCRAPES = 120
# GPU 0's instances: (GI id, profile, namespace, pod, GR_ENGINE_ACTIVE, FB used MiB)
INSTANCES = [(1, "3g.40gb", "infer", "llm-0", 0.8, 30000.0), (5, "2g.20gb", "infer", "embed-0", 0.5, 15000.0),
             (13, "1g.10gb", "research", "nb-0", 0.2, 5000.0), (14, "1g.10gb", None, None, 0.0, 0.0)]
JOBS = ["k8s:infer/embed-0", "k8s:infer/llm-0", "k8s:research/nb-0", "k8s:train/trainer-0"]


def series(labels: dict, fields: dict) -> list[dict]:
    sec = np.arange(0, 2 * 3600, 60)
    return [{"metric": {"__name__": name, **labels},
             "values": [[START + int(s), f"{float(v):.6f}"] for s, v in zip(sec, np.broadcast_to(value, sec.shape),
                                                                              strict=True)]}
            for name, value in fields.items()]


def dcgm_export() -> bytes:
    xid = np.where(np.arange(0, 2 * 3600, 60) >= 3600, 31.0, 0.0)
    result = []
    for gi, profile, namespace, pod, activity, fb in INSTANCES:
        labels = {"gpu": "0", "UUID": "GPU-m-0-0", "modelName": MODEL, "GPU_I_PROFILE": profile, "GPU_I_ID": str(gi),
                  "Hostname": HOST, "job": "dcgm"}
        if pod:
            labels |= {"pod": pod, "namespace": namespace, "container": "vllm" if pod == "llm-0" else "main"}
        result += series(labels, {
            "DCGM_FI_PROF_GR_ENGINE_ACTIVE": activity, "DCGM_FI_DEV_GPU_UTIL": 0.0, "DCGM_FI_DEV_FB_USED": fb,
            "DCGM_FI_DEV_POWER_USAGE": 400.0, "DCGM_FI_DEV_GPU_TEMP": 60.0, "DCGM_FI_DEV_SM_CLOCK": 1980.0,
            "DCGM_FI_DEV_CLOCKS_EVENT_REASONS": 0.0, "DCGM_FI_DEV_XID_ERRORS": xid})
    result += series(
        {"gpu": "1", "UUID": "GPU-m-0-1", "modelName": MODEL, "Hostname": HOST, "job": "dcgm",
         "pod": "trainer-0", "namespace": "train", "container": "pytorch"},
        {"DCGM_FI_PROF_GR_ENGINE_ACTIVE": 0.9, "DCGM_FI_DEV_GPU_UTIL": 90.0, "DCGM_FI_DEV_FB_USED": 70000.0,
         "DCGM_FI_DEV_POWER_USAGE": 650.0, "DCGM_FI_DEV_GPU_TEMP": 66.0, "DCGM_FI_DEV_SM_CLOCK": 1980.0,
         "DCGM_FI_DEV_CLOCKS_EVENT_REASONS": 0.0, "DCGM_FI_DEV_XID_ERRORS": 0.0})
    return gzip.compress(json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}).encode())


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, land_estate, stand_in_absent_relations, dbt, telemetry_subgraph) -> Path:
    root = tmp_path_factory.mktemp("gpu_mig")
    telemetry = root / "exports" / "telemetry"
    (telemetry / "inventory").mkdir(parents=True)
    (telemetry / "inventory" / "nodes.csv").write_text(f"hostname,cluster,gpu_model,gpu_count\n{HOST},{CLUSTER},{MODEL},2\n")
    path = telemetry / "prometheus" / CLUSTER / DAY.isoformat() / f"{HOST}.json.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(dcgm_export())
    assets = root / "assets"
    assets.mkdir()
    (assets / "gpu_pricing.yaml").write_text(
        f'currency: USD\nclusters:\n  - cluster: {CLUSTER}\n    price_per_gpu_hour: "2.00"\n'
        "    effective_from: 2026-01-01\n")
    (assets / "kubernetes_teams.yaml").write_text(
        "rules:\n" + "".join(f'  - namespace: "{ns}"\n    team: {team}\n'
                             for ns, team in [("infer", "inference"), ("research", "research"), ("train", "training")]))
    land_estate(root / "exports", root / "warehouse.duckdb", root, {"gpu_nodes", "dcgm_prometheus_exports"}, assets=assets)
    stand_in_absent_relations(root / "warehouse.duckdb")  # the Slurm tables ingest writes with no sacct
    result = dbt(root / "warehouse.duckdb", root, "build", "--indirect-selection", "cautious",
                 "--select", *telemetry_subgraph)
    assert result.returncode == 0, result.stdout[-6000:]
    return root / "warehouse.duckdb"


def test_a_mig_gpu_is_one_gpu_row_and_its_instances_keep_their_share(db, query) -> None:
    # int_gpu_samples: one row per GPU and scrape (the device read once, not once per instance)
    assert query(db, "select gpu_index, count(*), count(distinct sample_at), max(mig_instances), round(max(held_share), 6) "
                     "from intermediate.int_gpu_samples group by 1 order by 1") == [
        (0, SCRAPES, SCRAPES, 4, round(6 / 7, 6)), (1, SCRAPES, SCRAPES, 0, 1.0)]
    # int_gpu_instance_samples: each MIG instance, its holder and its share (Ng. = N of 7); no whole GPU
    assert query(db, "select gpu_index, cast(gpu_instance_id as integer), gpu_instance_profile, round(gpu_share, 6), "
                     "k8s_namespace, k8s_pod, round(avg(activity), 6), count(*) "
                     "from intermediate.int_gpu_instance_samples group by all order by 1, 2") == [
        (0, gi, profile, round(int(profile[0]) / 7, 6), ns, pod, activity, SCRAPES)
        for gi, profile, ns, pod, activity, _ in INSTANCES]


def test_every_pod_on_a_mig_gpu_is_credited_its_slice(db, query) -> None:
    expected = [(j, round(h, 6)) for j, h in zip(JOBS, [4 / 7, 6 / 7, 2 / 7, 2.0], strict=True)]
    assert query(db, "select job_key, round(sum(gpu_seconds) / 3600, 6) from intermediate.int_gpu_job_hours "
                     "where allocation_source = 'kubernetes' group by 1 order by 1") == expected
    assert query(db, "select job_key, round(sum(gpu_hours_sampled), 6) from intermediate.int_gpu_job_activity_hourly "
                     "group by 1 order by 1") == expected
    assert query(db, "select job_key, round(sum(gpu_hours_sampled), 6) from main.fct_gpu_job_usage "
                     "group by 1 order by 1") == expected


def test_active_gpu_hours_are_the_instances_activity_times_its_share(db, query) -> None:
    expected = [(j, round(h, 6)) for j, h in zip(JOBS, [4 / 7 * 0.5, 6 / 7 * 0.8, 2 / 7 * 0.2, 2 * 0.9], strict=True)]
    assert query(db, "select job_key, round(sum(gpu_hours_active), 6) from intermediate.int_gpu_job_activity_hourly "
                     "group by 1 order by 1") == expected
    assert query(db, "select job_key, round(sum(gpu_hours_active), 6) from main.fct_gpu_job_usage "
                     "group by 1 order by 1") == expected


def test_the_physical_gpu_is_one_gpu_per_hour(db, query) -> None:
    rows = query(db, "select gpu_index, hour(hour_start), seconds_sampled, round(gpu_hours_active, 6), "
                     "round(mean_activity, 6), round(mean_power_w, 6), round(max_power_w, 6), round(energy_kwh, 6), "
                     "jobs_seen from main.fct_gpu_usage_hourly where hostname = ? order by 1, 2", [HOST])
    gpu0 = (3600, round(3.6 / 7, 6), round(3.6 / 7, 6), 400.0, 400.0, 0.4, 3)  # 3 x 0.8 + 2 x 0.5 + 1 x 0.2 + 1 x 0
    gpu1 = (3600, 0.9, 0.9, 650.0, 650.0, 0.65, 1)
    assert rows == [(0, 0, *gpu0), (0, 1, *gpu0), (1, 0, *gpu1), (1, 1, *gpu1)]


def test_a_device_xid_is_one_event_not_one_per_instance(db, query) -> None:
    assert query(db, "select event_type, measure_value, started_at from main.gpu_health_events "
                     "where hostname = ? and gpu_index = 0 and event_type like 'xid%'", [HOST]) == [
        ("xid_nonfatal", 31.0, datetime(2026, 11, 6, 1, 0))]
    assert query(db, "select count(*) from main.gpu_health_events where hostname = ? and event_type like 'xid%'",
                 [HOST]) == [(1,)]


def test_the_mig_gpus_cost_splits_by_slice_and_the_free_slice_stays_unallocated(db, query) -> None:
    rows = query(db, "select allocation_type, team, round(sum(gpu_hours_allocated), 6), "
                     "round(sum(gpu_hours_unallocated), 6), sum(paid_cost), sum(utilization_weighted_cost) "
                     "from main.fct_gpu_cost_allocation "
                     "group by 1, 2 order by 1, 2")
    cents = Decimal("0.01")
    assert [(a, t, h, u, p.quantize(cents), w.quantize(cents) if w is not None else None)
            for a, t, h, u, p, w in rows] == [
        ("job", "inference", round(10 / 7, 6), 0.0, Decimal("2.86"), Decimal("1.94")),  # 12/7 x 0.8 + 8/7 x 0.5
        ("job", "research", round(2 / 7, 6), 0.0, Decimal("0.57"), Decimal("0.11")),  # 4/7 x 0.2
        ("job", "training", 2.0, 0.0, Decimal("4.00"), Decimal("3.60")),
        ("unallocated", None, 0.0, round(2 / 7, 6), Decimal("0.57"), Decimal("0.00")),
    ]
    assert query(db, "select sum(paid_cost) from main.fct_gpu_cost_allocation")[0][0] == Decimal("8.00")
