"""The telemetry dbt models on a tiny generated estate: GPU-hours in the marts equal those computed
directly from the files (sacct rows for allocation, DCGM samples for activity), and capacity is
the inventory's GPUs x 24 h per day."""

from __future__ import annotations

import csv
import gzip
import re
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.sample_estate.spec import EstateSpec, default_fleet
from atlas_pipeline.sample_estate.telemetry import generate_telemetry

pytestmark = pytest.mark.dbt

INTERVAL = 3600
DAY = 86_400
TELEMETRY_SOURCES = {"dcgm_samples", "slurm_jobs", "gpu_nodes"}


def _epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())


def latest_jobs(telemetry: Path) -> dict[tuple[str, str], tuple[dict[str, str], int]]:
    """(cluster, job id) -> (job row from the latest sacct file listing it, that file's end)."""
    latest: dict[tuple[str, str], tuple[dict[str, str], int]] = {}
    for path in sorted((telemetry / "slurm").rglob("*.sacct.txt")):
        day = date.fromisoformat(path.name[:10])
        as_of = _epoch(f"{day + timedelta(days=1)}T00:00:00")
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle, delimiter="|"):
                if "." not in row["JobID"]:
                    latest[(path.parent.name, row["JobID"])] = (row, as_of)
    return latest


def expected_allocated(telemetry: Path) -> dict[tuple[str, date, str], float]:
    """GPU-hours per (cluster, UTC day, team), straight from the sacct rows."""
    hours: dict[tuple[str, date, str], float] = defaultdict(float)
    for (cluster, _), (row, as_of) in latest_jobs(telemetry).items():
        if row["Start"] in ("None", "Unknown"):
            continue
        gpus = int(re.search(r"(?:^|,)gres/gpu=(\d+)", row["AllocTRES"]).group(1))
        start = _epoch(row["Start"])
        end = as_of if row["End"] == "Unknown" else _epoch(row["End"])
        t = start
        while t < end:
            next_midnight = (t // DAY + 1) * DAY
            chunk_end = min(end, next_midnight)
            day = datetime.fromtimestamp(t, UTC).date()
            hours[(cluster, day, row["Account"])] += gpus * (chunk_end - t) / 3600
            t = chunk_end
    return hours


def expected_active(telemetry: Path) -> dict[tuple[str, date, str], float]:
    """Σ interval x GR_ENGINE_ACTIVE (GPU_UTIL / 100 when blank) over job-held samples."""
    inventory = (telemetry / "inventory" / "nodes.csv").read_text().splitlines()
    nodes = {r["hostname"]: r["cluster"] for r in csv.DictReader(inventory)}
    teams = {key: row["Account"] for key, (row, _) in latest_jobs(telemetry).items()}
    per_scrape: dict[tuple[str, str, int, str], dict[str, float]] = defaultdict(dict)
    pattern = re.compile(r'^(\w+)\{gpu="(\d+)".*Hostname="([^"]+)"(?:,hpc_job="(\d+)")?\} (\S+) (\d+)$')
    for path in sorted((telemetry / "dcgm").rglob("*.prom.gz")):
        for line in gzip.decompress(path.read_bytes()).decode().splitlines():
            match = pattern.match(line)
            if match and match[4]:
                metric, gpu, host, job, value, ms = match.groups()
                per_scrape[(host, gpu, int(ms) // 1000, job)][metric] = float(value)
    active: dict[tuple[str, date, str], float] = defaultdict(float)
    for (host, _, t, job), values in per_scrape.items():
        ratio = values["DCGM_FI_PROF_GR_ENGINE_ACTIVE"]
        if ratio == 140737488355328.0:  # DCGM_FP64_BLANK
            ratio = values["DCGM_FI_DEV_GPU_UTIL"] / 100
        cluster = nodes[host]
        active[(cluster, datetime.fromtimestamp(t, UTC).date(), teams[(cluster, job)])] += INTERVAL * ratio / 3600
    return active


@pytest.fixture(scope="module")
def warehouse(
    tmp_path_factory: pytest.TempPathFactory, land_estate, dbt, telemetry_subgraph
) -> tuple[Path, Path, EstateSpec]:
    root = tmp_path_factory.mktemp("dbt_telemetry")
    fleet = default_fleet()
    spec = replace(
        EstateSpec(seed=11, start_month=date(2026, 9, 1), months=1),
        fleet=(fleet[0], fleet[2]),
        telemetry_interval_seconds=INTERVAL,
        telemetry_days=2,
        onprem_fleet=(),
    )
    generate_telemetry(root / "exports", spec)
    telemetry = root / "exports" / "telemetry"
    db = root / "warehouse.duckdb"
    # Landed as the ingest assets land them (typed, with the x_source_file / x_period lineage the
    # models read); the inputs this estate lacks get their typed empty views.
    land_estate(root / "exports", db, root, names=TELEMETRY_SOURCES)

    result = dbt(db, root, "build", "--indirect-selection", "cautious", "--select", *telemetry_subgraph)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return db, telemetry, spec


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_allocated_gpu_hours_match_the_sacct_rows(warehouse) -> None:
    db, telemetry, _ = warehouse
    expected = expected_allocated(telemetry)
    rows = query(db, "select cluster, usage_date, team, gpu_hours_allocated from main.fct_gpu_hours_daily")
    actual = {(c, d, t): h for c, d, t, h in rows if h > 0}
    assert set(actual) == {k for k, v in expected.items() if v > 0}
    for key, hours in expected.items():
        assert actual.get(key, 0.0) == pytest.approx(hours, abs=1e-9), key
    assert sum(actual.values()) > 100


def test_active_gpu_hours_match_the_dcgm_samples(warehouse) -> None:
    db, telemetry, spec = warehouse
    expected = expected_active(telemetry)
    assert expected
    rows = query(
        db,
        "select cluster, usage_date, team, gpu_hours_active, gpu_hours_sampled, has_gpu_telemetry "
        "from main.fct_gpu_hours_daily",
    )
    last_days = {spec.end_exclusive - timedelta(days=2), spec.end_exclusive - timedelta(days=1)}
    for cluster, day, team, active, sampled, has_samples in rows:
        assert has_samples == (day in last_days)
        if day in last_days:
            assert active == pytest.approx(expected.get((cluster, day, team), 0.0), abs=1e-9)
            assert 0 <= active <= sampled + 1e-9  # GR_ENGINE_ACTIVE is a ratio of the sampled hours
        else:
            assert active is None


def test_capacity_is_inventory_gpus_times_24_hours(warehouse) -> None:
    db, telemetry, spec = warehouse
    rows = query(
        db,
        "select cluster, usage_date, gpu_count, gpu_hours_capacity, gpu_hours_allocated, gpu_hours_unallocated "
        "from main.fct_gpu_capacity_daily",
    )
    days = {spec.start_month + timedelta(days=i) for i in range((spec.end_exclusive - spec.start_month).days)}
    assert {(c, d) for c, d, *_ in rows} == {(h.cluster, d) for h in spec.fleet for d in days}
    allocated = defaultdict(float)
    for (cluster, day, _), hours in expected_allocated(telemetry).items():
        allocated[(cluster, day)] += hours
    for cluster, day, gpus, capacity, alloc, idle in rows:
        assert gpus == 8 and capacity == 8 * 24
        assert alloc == pytest.approx(allocated[(cluster, day)], abs=1e-9)
        assert idle == pytest.approx(capacity - alloc, abs=1e-9)
        assert 0 <= alloc <= capacity + 1e-9


def test_staged_jobs_keep_the_latest_state(warehouse) -> None:
    db, telemetry, _ = warehouse
    latest = latest_jobs(telemetry)
    rows = query(
        db,
        "select cluster, job_id, state, gpu_count, ended_at, is_running, team from staging.stg_slurm__jobs",
    )
    assert len(rows) == len(latest)
    for cluster, job_id, state, gpus, ended_at, is_running, team in rows:
        row, _ = latest[(cluster, job_id)]
        assert state == row["State"].split(" ")[0]
        assert team == row["Account"]
        assert gpus == (int(re.search(r"gres/gpu=(\d+)", row["AllocTRES"]).group(1)) if row["AllocTRES"] else 0)
        assert (ended_at is None) == (row["End"] == "Unknown") == is_running
    # The estate's last sacct file still has running jobs, or at least one ran across midnight.
    assert any(r[5] for r in rows) or any(row["Start"][:10] != row["End"][:10] for row, _ in latest.values())
