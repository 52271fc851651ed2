"""The GPU marts on a generated estate (billing + telemetry, landed with the real landing code,
built by dbt): GPU cost reconciles to the GPU instances' EffectiveCost to the cent, on-prem cost to
the declared price, allocation matches Slurm, and the health marts find the injected stragglers,
thermal throttling, power step and XIDs without flagging healthy GPUs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_pipeline.lib.ingest.gpu_pricing import load_gpu_pricing
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.sample_estate.estate import generate_estate
from atlas_pipeline.sample_estate.spec import EstateSpec, default_fleet

pytestmark = pytest.mark.dbt

INTERVAL = 600
TELEMETRY_DAYS = 3
STRAGGLER = ("aws-p5-001", 3)
THROTTLED = ("gcp-a3-001", 5)
XID_FATAL = ("aws-p5-001", 6, 79)
XID_BENIGN = ("gcp-a3-001", 2, 13)
POWER_STEP_HOST = "gcp-a3-001"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, land_estate, dbt) -> tuple[Path, EstateSpec]:
    root = tmp_path_factory.mktemp("gpu_warehouse")
    fleet = default_fleet()
    spec = replace(
        EstateSpec(seed=5, start_month=date(2026, 9, 1), months=1, line_items_per_month=1500),
        fleet=(fleet[0], fleet[2], fleet[3]),  # aws (Savings Plan), gcp, azure (daily charges)
        telemetry_interval_seconds=INTERVAL,
        telemetry_days=TELEMETRY_DAYS,
    )
    generate_estate(root / "exports", spec)
    db = root / "warehouse.duckdb"
    land_estate(root / "exports", db, root)
    result = dbt(db, root, "build")
    assert result.returncode == 0, result.stdout[-8000:]
    return db, spec


def telemetry_days(spec: EstateSpec) -> list[date]:
    return [spec.end_exclusive - timedelta(days=i) for i in range(TELEMETRY_DAYS, 0, -1)]


def test_cloud_gpu_cost_reconciles_to_effective_cost_to_the_cent(estate, query) -> None:
    db, spec = estate
    focus = query(db, 'select "ResourceId", "EffectiveCost" from main.focus_cost_and_usage where "ResourceId" is not null')
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for host in spec.fleet:
        own = host.resource_id.lower()
        for resource_id, cost in focus:
            if resource_id.lower() == own or resource_id.lower().endswith("/" + own):
                expected[host.cluster] += cost
    assert set(expected) == {"aws-train", "gcp-infer", "azure-train"} and all(v > 0 for v in expected.values())
    rows = query(
        db,
        "select cluster, sum(paid_cost), sum(allocated_cost), sum(idle_cost_unallocated), min(idle_cost_unallocated) "
        "from main.fct_gpu_cost_allocation group by cluster",
    )
    paid = {cluster: (total, allocated, idle, min_idle) for cluster, total, allocated, idle, min_idle in rows}
    for cluster, cost in expected.items():
        total, allocated, idle, min_idle = paid[cluster]
        assert total.quantize(Decimal("0.01")) == cost.quantize(Decimal("0.01")), cluster
        assert abs(total - cost) < Decimal("0.000001")
        assert allocated + idle == total and allocated > 0 and idle > 0 and min_idle >= 0


def test_onprem_cost_is_declared_price_times_gpu_hours(estate, query) -> None:
    db, spec = estate
    price = next(p.price_per_gpu_hour for p in load_gpu_pricing(DECLARATIONS_DIR / "gpu_pricing.yaml")
                 if p.cluster == "onprem-lab")
    days = (spec.end_exclusive - spec.start_month).days
    gpus = sum(h.gpu_count for h in spec.onprem_fleet)
    (total, sources), = query(
        db, "select sum(paid_cost), list(distinct price_source) from main.fct_gpu_cost_allocation "
            "where cluster = 'onprem-lab'",
    )
    assert total == price * gpus * 24 * days
    assert sources == ["declared"]


def test_allocated_gpu_hours_match_slurm(estate, query) -> None:
    db, _ = estate
    hours = dict(
        ((c, d, t), h) for c, d, t, h in query(
            db, "select cluster, usage_date, team, sum(gpu_hours_allocated) from main.fct_gpu_cost_allocation "
                "where allocation_type = 'job' group by all")
    )
    expected = {(c, d, t): h for c, d, t, h in query(
        db, "select cluster, usage_date, team, gpu_hours_allocated from main.fct_gpu_hours_daily "
            "where gpu_hours_allocated > 0")}
    assert set(hours) == set(expected)
    for key, value in expected.items():
        assert hours[key] == pytest.approx(value, abs=1e-6), key


def test_utilization_weighted_and_idle_costs_are_consistent(estate, query) -> None:
    db, _ = estate
    rows = query(
        db,
        "select allocation_type, allocated_cost, utilization_weighted_cost, idle_cost_allocated_unused, "
        "idle_method from main.fct_gpu_cost_allocation",
    )
    weighted = [r for r in rows if r[0] == "job" and r[2] is not None]
    assert weighted  # jobs on DCGM hosts have GPU-level activity
    for _, allocated, used, unused, method in weighted:
        assert 0 <= used <= allocated and unused == allocated - used and "GR_ENGINE_ACTIVE" in method
    # nvidia-smi hosts carry no job labels: their jobs' unused share is not estimated, and says so.
    assert any(r[2] is None and "no GPU-level telemetry" in r[4] for r in rows if r[0] == "job")


def test_usage_hourly_covers_every_gpu_hour_of_telemetry(estate, query) -> None:
    db, spec = estate
    rows = query(
        db,
        "select hostname, count(*), min(samples), max(samples), sum(seconds_sampled), sum(energy_kwh), "
        "max(max_power_w), list(distinct telemetry_source) from main.fct_gpu_usage_hourly group by hostname",
    )
    by_host = {r[0]: r[1:] for r in rows}
    assert set(by_host) == {h.hostname for h in spec.gpu_hosts}
    for host in spec.gpu_hosts:
        hours, min_samples, max_samples, seconds, kwh, max_w, sources = by_host[host.hostname]
        assert hours == host.gpu_count * 24 * TELEMETRY_DAYS
        assert min_samples == max_samples == 3600 // INTERVAL
        assert seconds == host.gpu_count * 86_400 * TELEMETRY_DAYS
        assert 0 < kwh < host.gpu_count * 24 * TELEMETRY_DAYS * 1.0
    assert {s for r in rows for s in r[7]} == {"dcgm_text", "prometheus_json", "nvidia_smi_csv"}
    # energy = Σ power x interval, straight from the readings
    (diff,), = query(
        db,
        "select abs((select sum(energy_kwh) from main.fct_gpu_usage_hourly) - "
        "(select sum(power_w * interval_seconds) / 3600000 from intermediate.int_gpu_samples))",
    )
    assert diff < 1e-6


def test_job_usage_per_gpu_is_within_the_allocation(estate, query) -> None:
    db, _ = estate
    rows = query(
        db,
        "select job_key, team, gpu_hours_allocated, gpu_hours_sampled, gpu_hours_active, utilization, "
        "k8s_pod from main.fct_gpu_job_usage",
    )
    assert len(rows) > 50
    for job_key, team, allocated, sampled, active, utilization, _ in rows:
        assert team is not None, job_key
        assert sampled <= allocated + INTERVAL / 3600 + 1e-9, job_key
        assert 0 <= active <= sampled + 1e-9 and 0 <= utilization <= 1
    # The Prometheus-exported host carries dcgm-exporter's Kubernetes pod labels.
    assert any(r[6] for r in rows)


def _events(query, db: Path, event_type: str) -> list[tuple]:
    return query(
        db,
        "select hostname, gpu_index, started_at, ended_at, duration_seconds, interval_seconds, measure_value, "
        "job_key from main.gpu_health_events where event_type = ? order by started_at",
        [event_type],
    )


def test_injected_straggler_is_found_and_healthy_gpus_are_not_flagged(estate, query) -> None:
    db, _ = estate
    stragglers = _events(query, db, "straggler")
    flagged = {(h, g) for h, g, *_ in stragglers}
    assert STRAGGLER in flagged
    # The thermally throttled GPU legitimately lags its peers while throttled; nothing else does.
    assert flagged <= {STRAGGLER, THROTTLED}
    assert all(r[6] < 0.85 for r in stragglers)
    assert all(r[7] for r in stragglers)  # each names the job


def test_thermal_throttling_episodes_match_the_injection(estate, query) -> None:
    db, spec = estate
    episodes = _events(query, db, "thermal_throttle")
    assert {(h, g) for h, g, *_ in episodes} == {THROTTLED}
    assert [(e[2].date(), e[2].hour, e[4]) for e in episodes] == [(d, 13, 2 * 3600) for d in telemetry_days(spec)]
    daily = query(
        db, "select hostname, gpu_index, sum(thermal_throttle_seconds) from main.fct_gpu_health_daily "
            "where thermal_throttle_seconds > 0 group by all")
    assert daily == [(*THROTTLED, 2 * 3600 * TELEMETRY_DAYS)]


def test_power_step_is_found_with_its_sampling_interval(estate, query) -> None:
    db, spec = estate
    steps = _events(query, db, "power_transient")
    # The injected step: gcp-a3-001 idles, then all 8 GPUs jump to TDP at 12:00 each day:
    # 8 x (700 - ~70) W in one 600 s reading, dP/dt reported over the sampling interval.
    ups = [s for s in steps if s[0] == POWER_STEP_HOST and s[3].hour == 12 and s[3].minute == 0 and s[6] > 0]
    assert [s[3].date() for s in ups] == telemetry_days(spec)
    assert all(s[5] == INTERVAL and s[1] is None and 4500 < s[6] < 5100 for s in ups)
    # Every other transient is a real load step: a job starting or ending on the node between the
    # two readings (the busy GPU count changed by at least half the node), never noise.
    for host, _, started, ended, *_ in steps:
        # the injected fault forces the node to idle power for the two readings before 12:00
        if host == POWER_STEP_HOST and (ended.hour, ended.minute) in ((11, 40), (12, 0), (12, 10)):
            continue
        (busy_before, busy_after), = query(
            db,
            "select count(*) filter (where sample_at = ? and is_busy), count(*) filter (where sample_at = ? and is_busy) "
            "from intermediate.int_gpu_reading_states where hostname = ?",
            [started, ended, host],
        )
        assert abs(busy_after - busy_before) >= 4, (host, started)
    daily = query(
        db, "select hostname, max(node_max_power_step_w_per_s), max(power_sampling_interval_seconds), "
            "max(rack_max_power_step_w_per_s) from main.fct_gpu_health_daily group by hostname")
    assert all(r[2] == INTERVAL for r in daily)


def test_xid_errors_are_classified(estate, query) -> None:
    db, _ = estate
    fatal = {(h, g, int(v)) for h, g, _, _, _, _, v, _ in _events(query, db, "xid_fatal")}
    benign = {(h, g, int(v)) for h, g, _, _, _, _, v, _ in _events(query, db, "xid_nonfatal")}
    assert fatal == {XID_FATAL} and benign == {XID_BENIGN}
    statuses = query(
        db, "select hostname, gpu_index, health_status from main.fct_gpu_health_daily "
            "where xid_fatal_errors > 0")
    assert {(h, g, s) for h, g, s in statuses} == {(XID_FATAL[0], XID_FATAL[1], "failed")}


def test_gpus_below_model_baseline_are_the_injected_ones(estate, query) -> None:
    db, _ = estate
    below = {(h, g) for h, g, *_ in _events(query, db, "below_model_baseline")}
    assert STRAGGLER in below
    assert below <= {STRAGGLER, THROTTLED}
    healthy = query(
        db, "select count(*), count(distinct hostname || gpu_index) from main.fct_gpu_health_daily "
            "where health_status = 'healthy'")
    assert healthy[0][1] >= 40 - 3  # every GPU but the faulty ones is healthy on some day


def test_incremental_rerun_is_idempotent(estate, tmp_path: Path, query, dbt) -> None:
    db, _ = estate
    before = query(db, "select count(*), sum(energy_kwh), sum(samples) from main.fct_gpu_usage_hourly")
    samples_before = query(db, "select count(*) from intermediate.int_gpu_samples")
    result = dbt(db, tmp_path, "run", "--select", "int_gpu_samples", "fct_gpu_usage_hourly")
    assert result.returncode == 0, result.stdout[-3000:]
    assert query(db, "select count(*) from intermediate.int_gpu_samples") == samples_before
    after = query(db, "select count(*), sum(energy_kwh), sum(samples) from main.fct_gpu_usage_hourly")
    assert after[0][0] == before[0][0] and after[0][2] == before[0][2]
    assert after[0][1] == pytest.approx(before[0][1], rel=1e-12)


# The telemetry models incremental by UTC day (telemetry_days_to_build / telemetry_files_to_build).
BY_DAY = ("stg_dcgm__gpu_samples", "int_gpu_samples", "int_gpu_instance_samples", "fct_gpu_usage_hourly")


def test_a_plain_build_fills_an_emptied_telemetry_model_with_every_day(estate, tmp_path: Path, query, dbt) -> None:
    """With no telemetry-day partitions named (a plain `dbt run`) an incremental telemetry model builds
    the newest day it holds and every later one; holding no day, every day — the same rows as the
    first build. (`>= (select max(day) from this)` on an empty table is `>= NULL`: no day at all.)"""
    from atlas_pipeline.lib.warehouse.connections import connect

    db, _ = estate
    names = ", ".join(f"'{name}'" for name in BY_DAY)
    tables = query(db, "select table_name, table_schema || '.' || table_name from information_schema.tables "
                       f"where table_name in ({names}) and table_type = 'BASE TABLE'")
    assert len(tables) == len(BY_DAY), tables
    with connect(db) as con:
        con.execute("create schema if not exists kept")
        for name, table in tables:
            con.execute(f"create or replace table kept.{name} as select * from {table}")
            con.execute(f"delete from {table}")
    try:
        result = dbt(db, tmp_path, "run", "--select", *BY_DAY)
        assert result.returncode == 0, result.stdout[-3000:]
        rebuilt = {}
        for name, table in tables:
            types = query(db, "select column_name, data_type from information_schema.columns "
                              f"where table_schema || '.' || table_name = '{table}' order by ordinal_position")
            # floating-point aggregates (means, energy) differ in their last bits with DuckDB's parallel
            # summation order: every other column row by row, exactly; those as column totals
            exact = ", ".join(c for c, t in types if t not in ("DOUBLE", "FLOAT"))
            floats = [c for c, t in types if t in ("DOUBLE", "FLOAT")]
            (rows, missing, extra), = query(
                db, f"select (select count(*) from {table}), "
                    f"(select count(*) from (select {exact} from kept.{name} except all select {exact} from {table})), "
                    f"(select count(*) from (select {exact} from {table} except all select {exact} from kept.{name}))")
            assert (missing, extra) == (0, 0), (name, rows, missing, extra)
            if floats:
                totals = ", ".join(f"sum({c})" for c in floats)
                (kept_totals, totals_now) = (query(db, f"select {totals} from {t}")[0] for t in (f"kept.{name}", table))
                assert totals_now == pytest.approx(kept_totals, rel=1e-12, nan_ok=True), name
            rebuilt[name] = rows
        # every model but the MIG instances' (no MIG GPU in this fleet) holds every day's rows again
        assert all(rebuilt[name] > 0 for name in BY_DAY if name != "int_gpu_instance_samples"), rebuilt
    finally:
        with connect(db) as con:  # the module's other tests read these tables: as the first build left them
            for name, table in tables:
                con.execute(f"delete from {table}")
                con.execute(f"insert into {table} select * from kept.{name}")
            con.execute("drop schema kept cascade")


def test_scale_generator_writes_readings_in_the_int_gpu_samples_shape(tmp_path: Path) -> None:
    """Sizes are parameters: any fleet, 10-second readings, one parquet file per day."""
    from atlas_pipeline.sample_estate.gpu_samples_parquet import write_sample_days
    from atlas_pipeline.sample_estate.spec import scaled_fleet

    spec = replace(
        EstateSpec(start_month=date(2026, 9, 1), months=1),
        fleet=scaled_fleet(2), onprem_fleet=(), telemetry_interval_seconds=10,
    )
    (path, rows), = write_sample_days(tmp_path, spec, [date(2026, 9, 30)])
    assert rows == 2 * 8 * 8640
    import duckdb

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    (n, gpus, first, last, interval, busy), = con.execute(
        "select count(*), count(distinct hostname || gpu_index), min(sample_at), max(sample_at), "
        f"max(interval_seconds), count(hpc_job_id) from read_parquet('{path}')"
    ).fetchall()
    assert (n, gpus, interval) == (rows, 16, 10)
    assert str(first) == "2026-09-30 00:00:00" and str(last) == "2026-09-30 23:59:50"
    assert 0 < busy < n
