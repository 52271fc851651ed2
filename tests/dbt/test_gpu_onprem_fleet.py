"""Issue 16's on-prem fleet, built by hand (tests/dbt/onprem_h100_fleet.py): 64 H100s on 8 hosts,
two 4-node Slurm jobs, 6 hours of dcgm-exporter telemetry exported from Prometheus as range-query
JSON (one file per host per day), priced from the user's own declarations, at a 10 s and at a
60 s scrape. Landed with the real landing code, built by the real dbt models.

Every row of the issue's table must come out right: the straggler with its busy-window ratio
(0.75), the thermal throttle as thermal_throttle (not a straggler), one XID 79 event whatever the
scrape interval, the idle->full node power step as a power transient against what the node can
swing, no healthy GPU flagged, and both jobs costed to the cent."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import onprem_h100_fleet as fleet
import pytest

pytestmark = pytest.mark.dbt

DAY = date(2026, 10, 5)
PREVIOUS_DAY = date(2026, 10, 4)
CENT = Decimal("0.01")


@pytest.fixture(scope="module", params=[10, 60], ids=["10s", "60s"])
def warehouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, land_estate, dbt, telemetry_subgraph
) -> tuple[Path, int]:
    interval = request.param
    root = tmp_path_factory.mktemp(f"onprem_fleet_{interval}s")
    fleet.write_fleet(root / "exports", root / "my_assets", interval)
    db = root / "warehouse.duckdb"
    land_estate(root / "exports", db, root, {"gpu_nodes", "slurm_jobs", "dcgm_prometheus_exports"},
                assets=root / "my_assets")
    # Telemetry only: no cloud bill, no DCGM text or nvidia-smi files: those inputs are absent.
    result = dbt(db, root, "build", "--indirect-selection", "cautious", "--select", *telemetry_subgraph)
    assert result.returncode == 0, result.stdout[-6000:]
    return db, interval


def events(query, db: Path, event_type: str | None = None) -> list[dict]:
    rows = query(
        db,
        "select event_type, hostname, gpu_index, job_key, started_at, ended_at, duration_seconds, interval_seconds, "
        "measure_value, measure_unit, delta_w, dp_dt_w_per_s, rack, detail from main.gpu_health_events "
        + ("where event_type = ? " if event_type else "") + "order by started_at, hostname, gpu_index",
        [event_type] if event_type else [],
    )
    names = ["event_type", "hostname", "gpu_index", "job_key", "started_at", "ended_at", "duration_seconds",
             "interval_seconds", "measure_value", "measure_unit", "delta_w", "dp_dt_w_per_s", "rack", "detail"]
    return [dict(zip(names, r, strict=True)) for r in rows]


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 10, 5, hour, minute, second)


def test_straggler_is_judged_on_busy_windows_only(warehouse, query) -> None:
    db, _ = warehouse
    (straggler,) = events(query, db, "straggler")
    assert (straggler["hostname"], straggler["gpu_index"]) == fleet.STRAGGLER
    assert straggler["job_key"] == f"{fleet.CLUSTER}:{fleet.JOB_B}"
    # its node idled until 02:00: those windows are the node's event, not this GPU's
    assert (straggler["started_at"], straggler["ended_at"]) == (at(2), at(6))
    assert straggler["measure_value"] == pytest.approx(fleet.STRAGGLER_RATIO, abs=0.01)
    assert "busy windows" in straggler["measure_unit"]


def test_idle_node_inside_a_multi_node_job_is_one_node_event(warehouse, query) -> None:
    db, _ = warehouse
    (idle,) = events(query, db, "idle_node_in_job")
    assert idle["hostname"] == fleet.IDLE_NODE and idle["gpu_index"] is None
    assert idle["job_key"] == f"{fleet.CLUSTER}:{fleet.JOB_B}"
    assert (idle["started_at"], idle["ended_at"], idle["duration_seconds"]) == (at(0), at(2), 7200)
    assert idle["measure_value"] < 0.05


def test_thermal_throttle_is_named_by_its_physics_not_a_straggler(warehouse, query) -> None:
    db, interval = warehouse
    (hot,) = events(query, db, "thermal_throttle")
    assert (hot["hostname"], hot["gpu_index"]) == fleet.THROTTLED
    assert hot["started_at"] == at(3) and hot["duration_seconds"] == 3600 and hot["interval_seconds"] == interval
    assert hot["measure_value"] == 91 and hot["measure_unit"] == "max temperature C"
    assert "violation counter" in hot["detail"] and "1290" in hot["detail"] and "90 % of the time" in hot["detail"]
    daily = query(db, "select thermal_throttle_seconds, is_below_model_baseline, straggler_seconds "
                      "from main.fct_gpu_health_daily where hostname = ? and gpu_index = ?", list(fleet.THROTTLED))
    assert daily == [(3600, False, 0)]


def test_one_xid_is_one_event_whatever_the_scrape_interval(warehouse, query) -> None:
    db, interval = warehouse
    (xid,) = events(query, db, "xid_fatal")
    assert (xid["hostname"], xid["gpu_index"], xid["measure_value"]) == (*fleet.XID_GPU, 79)
    assert xid["started_at"] == at(5, 45) and xid["interval_seconds"] == interval
    assert xid["detail"] == "GPU has fallen off the bus"
    assert events(query, db, "xid_nonfatal") == []
    (status,), = query(db, "select health_status from main.fct_gpu_health_daily where hostname = ? and gpu_index = ?",
                       list(fleet.XID_GPU))
    assert status == "failed"


def test_node_power_step_against_what_the_node_can_swing(warehouse, query) -> None:
    db, interval = warehouse
    (step,) = events(query, db, "power_transient")
    assert step["hostname"] == fleet.IDLE_NODE and step["rack"] == "rack-b" and step["gpu_index"] is None
    assert step["ended_at"] == at(2) and step["duration_seconds"] == interval == step["interval_seconds"]
    # ~70 W -> ~640 W on 8 GPUs (the straggler at 80 % of that): +4.3-4.7 kW of a 5,040 W swing
    assert 4300 < step["delta_w"] < 4700 and step["measure_unit"] == "W"
    assert step["dp_dt_w_per_s"] == pytest.approx(step["delta_w"] / interval)
    assert "5040 W the node can swing" in step["detail"]


def test_healthy_gpus_are_left_alone(warehouse, query) -> None:
    db, _ = warehouse
    flagged = {(e["hostname"], e["gpu_index"]) for e in events(query, db) if e["gpu_index"] is not None}
    assert flagged == {fleet.STRAGGLER, fleet.THROTTLED, fleet.XID_GPU}
    statuses = query(db, "select hostname, gpu_index, health_status from main.fct_gpu_health_daily")
    assert len(statuses) == 72
    healthy = {(h, g) for h, g, s in statuses if s == "healthy"}
    assert len(healthy) == 72 - 3 and not healthy & flagged
    # below-baseline only from busy, unthrottled readings: nobody here (the idle node's GPUs included)
    assert events(query, db, "below_model_baseline") == [] and events(query, db, "power_throttle") == []
    # no second counted twice: straggler seconds fit in the day
    (max_seconds,), = query(db, "select max(straggler_seconds) from main.fct_gpu_health_daily")
    assert max_seconds == 4 * 3600


def test_multi_node_jobs_are_costed_to_their_teams_to_the_cent(warehouse, query) -> None:
    db, _ = warehouse
    price = Decimal(fleet.PRICE)
    rows = query(db, "select usage_date, job_key, team, gpu_hours_allocated, allocated_cost, currency, price_source "
                     "from main.fct_gpu_cost_allocation where allocation_type = 'job' and cluster = ?", [fleet.CLUSTER])
    jobs = {(d, k): (t, h, c, cur, src) for d, k, t, h, c, cur, src in rows}
    expected = {
        # job A crosses midnight: 32 GPUs x 2 h on the 4th, x 6 h on the 5th
        (PREVIOUS_DAY, "onprem-h100:5001"): ("llm-train", 64),
        (DAY, "onprem-h100:5001"): ("llm-train", 192),
        (DAY, "onprem-h100:5002"): ("fine-tune", 192),
        # an array task (typed gres only) and a heterogeneous job's two components
        (PREVIOUS_DAY, "onprem-h100:4990_3"): ("search", 4),
        (PREVIOUS_DAY, "onprem-h100:4995+0"): ("research", 16),
        (PREVIOUS_DAY, "onprem-h100:4995+1"): ("research", 8),
    }
    assert set(jobs) == set(expected)
    for key, (team, hours) in expected.items():
        got_team, got_hours, cost, currency, source = jobs[key]
        assert (got_team, currency, source) == (team, "USD", "declared"), key
        assert got_hours == pytest.approx(hours, abs=1e-9), key
        assert cost.quantize(CENT) == (price * hours).quantize(CENT), key
    # every node of the 4-node NodeLists holds 8 GPUs of its job
    per_node = query(db, "select job_key, hostname, gpus_on_node from intermediate.int_slurm_job_nodes "
                         "where job_key in ('onprem-h100:5001', 'onprem-h100:5002') order by 1, 2")
    assert [(k[-4:], h, g) for k, h, g in per_node] == (
        [("5001", h, 8) for h in fleet.JOB_A_HOSTS] + [("5002", h, 8) for h in fleet.JOB_B_HOSTS]
    )


def test_allocated_plus_unallocated_is_paid_per_cluster_and_day(warehouse, query) -> None:
    db, _ = warehouse
    paid = dict(((c, d), (cost, hours)) for c, d, cost, hours in query(
        db, "select cluster, cast(hour_start as date), sum(cost), sum(gpu_count) "
            "from intermediate.int_gpu_node_hourly_cost group by all"))
    split = dict(((c, d), (cost, hours)) for c, d, cost, hours in query(
        db, "select cluster, usage_date, sum(paid_cost), sum(gpu_hours_allocated + gpu_hours_unallocated) "
            "from main.fct_gpu_cost_allocation group by all"))
    # sacct reported both days for the Slurm cluster (24 h each); the Kubernetes node only its 6 telemetry hours
    assert paid == {
        (fleet.CLUSTER, PREVIOUS_DAY): (Decimal(fleet.PRICE) * 64 * 24, 64 * 24),
        (fleet.CLUSTER, DAY): (Decimal(fleet.PRICE) * 64 * 24, 64 * 24),
        (fleet.K8S_CLUSTER, DAY): (Decimal(fleet.K8S_PRICE) * 8 * 6, 8 * 6),
    }
    assert set(split) == set(paid)
    for key, (cost, hours) in paid.items():
        assert split[key][0] == cost and split[key][1] == pytest.approx(hours, abs=1e-9), key
    # capacity only for hours a cluster reported: no invented idle days
    capacity = query(db, "select cluster, usage_date, gpu_hours_capacity, gpu_hours_allocated, gpu_hours_unallocated "
                         "from main.fct_gpu_capacity_daily order by 1, 2")
    assert [(c, d, cap) for c, d, cap, *_ in capacity] == [
        (fleet.CLUSTER, PREVIOUS_DAY, 1536), (fleet.CLUSTER, DAY, 1536), (fleet.K8S_CLUSTER, DAY, 48)]
    for _, _, cap, allocated, unallocated in capacity:
        assert allocated + unallocated == pytest.approx(cap)


def test_kubernetes_pods_get_declared_teams_and_are_costed_like_jobs(warehouse, query) -> None:
    db, _ = warehouse
    rows = query(db, "select job_key, team, project, allocation_source, gpu_hours_allocated, allocated_cost, "
                     "utilization_weighted_cost from main.fct_gpu_cost_allocation "
                     "where cluster = ? and allocation_type = 'job' order by job_key", [fleet.K8S_CLUSTER])
    price = Decimal(fleet.K8S_PRICE)
    assert [(k, t, p, s, h) for k, t, p, s, h, *_ in rows] == [
        ("k8s:ml-platform/vllm-serve-7d9f", "ml-platform", "inference", "kubernetes", 24),
        ("k8s:research-vision/trainer-abc12", "ml-research", None, "kubernetes", 12),
    ]
    for _, _, _, _, hours, cost, used in rows:
        assert cost.quantize(CENT) == (price * Decimal(hours)).quantize(CENT)
        # SM_ACTIVE (this exporter has no GR_ENGINE_ACTIVE) ~0.9
        assert Decimal("0.85") * cost < used < Decimal("0.95") * cost


def test_every_mart_agrees_on_active_gpu_hours(warehouse, query) -> None:
    db, interval = warehouse
    per_mart = {}
    for mart, sql in {
        "fct_gpu_hours_daily": "select cluster, usage_date, sum(gpu_hours_active) from main.fct_gpu_hours_daily "
                               "where gpu_hours_active is not null group by all",
        "fct_gpu_cost_allocation": "select cluster, usage_date, sum(gpu_hours_active) from main.fct_gpu_cost_allocation "
                                   "where gpu_hours_active is not null group by all",
        "fct_gpu_job_usage": "select cluster, cast(first_sample_at as date), sum(gpu_hours_active) "
                             "from main.fct_gpu_job_usage group by all",
        "fct_gpu_capacity_daily": "select cluster, usage_date, gpu_hours_active from main.fct_gpu_capacity_daily "
                                  "where gpu_hours_active is not null",
    }.items():
        per_mart[mart] = {(c, d): v for c, d, v in query(db, sql)}
    reference = per_mart["fct_gpu_hours_daily"]
    assert set(reference) == {(fleet.CLUSTER, DAY), (fleet.K8S_CLUSTER, DAY)}
    for mart, values in per_mart.items():
        assert set(values) == set(reference), mart
        for key, value in values.items():
            assert value == pytest.approx(reference[key], rel=1e-9), (mart, key)
    # and they are what the readings say: Σ interval x activity over job-held GPUs, by hand
    (by_hand,), = query(db, "select sum(interval_seconds * activity) / 3600 from intermediate.int_gpu_samples "
                            "where hpc_job_id is not null or k8s_pod is not null")
    assert sum(reference.values()) == pytest.approx(by_hand, rel=1e-9)
    # about 0.9 x 384 GPU-hours of two 32-GPU jobs over 6 h, less the idle node and the straggler
    assert 300 < reference[(fleet.CLUSTER, DAY)] < 0.9 * 384


def test_sacct_forms_any_format_steps_arrays_heterogeneous(warehouse, query) -> None:
    db, _ = warehouse
    rows = query(db, "select job_id, job_id_raw, het_component, array_task_id, gpu_count, node_list, state, team "
                     "from staging.stg_slurm__jobs order by job_id")
    assert rows == [
        ("4990_3", "4993", None, 3, 2, "gpu-node-05", "COMPLETED", "search"),
        ("4995+0", "4995", 0, None, 8, "gpu-node-06", "COMPLETED", "research"),
        ("4995+1", "4996", 1, None, 4, "gpu-node-07", "COMPLETED", "research"),
        ("5001", "5001", None, None, 32, "gpu-node-[00-03]", "FAILED", "llm-train"),
        ("5002", "5002", None, None, 32, "gpu-node-[04-07]", "COMPLETED", "fine-tune"),
    ]
    expanded = defaultdict(list)
    for node_list, host in query(db, "select node_list, hostname from raw.slurm_node_lists order by node_position"):
        expanded[node_list].append(host)
    assert expanded["gpu-node-[00-03]"] == fleet.JOB_A_HOSTS and expanded["gpu-node-[04-07]"] == fleet.JOB_B_HOSTS


def test_raw_checks_pass_and_fetch_one_row_per_file_not_the_samples(warehouse) -> None:
    import duckdb

    from atlas_pipeline.lib.quality.expectations import fetch_frame, parse_suite, validate
    from atlas_pipeline.lib.settings import REPO_ROOT

    db, _ = warehouse
    con = duckdb.connect(str(db), read_only=True)
    try:
        prometheus = parse_suite(REPO_ROOT / "checks" / "raw" / "dcgm_prometheus_exports.json")
        frame = fetch_frame(con, prometheus)
        # the suite aggregates in SQL: 9 files (8 hosts + the Kubernetes node), not 1.4M samples
        assert len(frame) == 9 and frame["samples"].sum() > 100_000
        assert validate(prometheus, frame).success
        sacct = parse_suite(REPO_ROOT / "checks" / "raw" / "slurm_jobs.json")
        outcome = validate(sacct, fetch_frame(con, sacct))  # steps, `4990_[4-9]`, `4995+1` are Slurm's forms
        assert outcome.success, outcome.failures_markdown()
    finally:
        con.close()
