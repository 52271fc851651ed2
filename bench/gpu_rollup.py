"""Benchmark: the GPU-hour rollup (dbt model fct_gpu_usage_hourly, compiled by dbt, run by DuckDB)
over generated GPU readings, incrementally by UTC day. Prints readings per second and peak memory.

    .venv/bin/python bench/gpu_rollup.py --hosts 125 --interval 10 --days 12     # 1,000 GPUs, ~100M readings
    .venv/bin/python bench/gpu_rollup.py --hosts 125 --interval 10 --days 1      # quick: 8.6M readings

A reading is one GPU at one scrape with all its fields (the grain of intermediate.int_gpu_samples).
Generation (the sample-estate simulation straight to parquet, one file per day) is timed apart
from the rollup. Peak memory is the process's maximum resident set size (DuckDB runs in-process).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from atlas_pipeline.lib.settings import DBT_PROJECT_DIR  # noqa: E402
from atlas_pipeline.sample_estate.gpu_jobs import simulate_jobs  # noqa: E402
from atlas_pipeline.sample_estate.gpu_samples_parquet import write_sample_days  # noqa: E402
from atlas_pipeline.sample_estate.node_inventory import render_inventory  # noqa: E402
from atlas_pipeline.sample_estate.spec import EstateSpec, scaled_fleet  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compiled_rollup_sql(warehouse: Path, work: Path) -> str:
    """fct_gpu_usage_hourly as dbt compiles it for a first (non-incremental) build."""
    env = {**os.environ, "ATLAS_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [
            str(dbt),
            "compile",
            "--quiet",
            "--select",
            "fct_gpu_usage_hourly",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(result.stdout[-3000:] + result.stderr[-2000:])
    return next((work / "target" / "compiled").rglob("fct_gpu_usage_hourly.sql")).read_text()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=125, help="GPU nodes (default 125 = 1,000 GPUs)")
    parser.add_argument("--gpus-per-host", type=int, default=8)
    parser.add_argument("--interval", type=int, default=10, help="seconds between readings (default 10)")
    parser.add_argument("--days", type=int, default=1, help="UTC days of readings (12 days of 1,000 GPUs ~ 100M)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed after)")
    args = parser.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="atlas-gpu-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        first = date(2026, 9, 1)
        spec = EstateSpec(
            start_month=first,
            months=max(1, (args.days + 30) // 31),
            fleet=scaled_fleet(args.hosts, args.gpus_per_host),
            onprem_fleet=(),
            telemetry_interval_seconds=args.interval,
        )
        days = [first + timedelta(days=i) for i in range(args.days)]
        gpus = args.hosts * args.gpus_per_host
        print(f"fleet: {gpus:,} GPUs on {args.hosts} nodes, a reading every {args.interval} s, {args.days} day(s)")

        t0 = time.perf_counter()
        jobs = simulate_jobs(spec)
        files = write_sample_days(work / "samples", spec, days, jobs)
        generated = time.perf_counter() - t0
        readings = sum(n for _, n in files)
        size = sum(p.stat().st_size for p, _ in files)
        print(
            f"generate: {readings:,} readings ({size / 2**20:,.0f} MiB parquet) in {generated:.1f} s "
            f"= {readings / generated:,.0f} readings/s"
        )

        warehouse = work / "bench.duckdb"
        con = duckdb.connect(str(warehouse))
        con.execute(f"set threads = {args.threads}")
        con.execute(f"set memory_limit = '{args.memory_limit}'")
        con.execute(f"set temp_directory = '{work / 'spill'}'")
        for schema in ("staging", "intermediate"):
            con.execute(f"create schema if not exists {schema}")
        inventory = work / "nodes.csv"
        inventory.write_text(render_inventory(spec.gpu_hosts))
        con.execute(f"create table staging.stg_cluster__gpu_nodes as select * from read_csv('{inventory}')")
        con.execute(f"create view intermediate.int_gpu_samples as select * from read_parquet('{files[0][0]}')")
        con.close()
        rollup = compiled_rollup_sql(warehouse, work)

        con = duckdb.connect(str(warehouse))
        con.execute(f"set threads = {args.threads}")
        con.execute(f"set memory_limit = '{args.memory_limit}'")
        con.execute(f"set temp_directory = '{work / 'spill'}'")
        t0 = time.perf_counter()
        for i, (path, n) in enumerate(files):
            day_start = time.perf_counter()
            # Incremental by day: the day's readings in, that day's GPU-hours out (delete + insert).
            con.execute(f"create or replace view intermediate.int_gpu_samples as select * from read_parquet('{path}')")
            if i == 0:
                con.execute(f"create table main.fct_gpu_usage_hourly as {rollup}")
            else:
                con.execute("delete from main.fct_gpu_usage_hourly where usage_date = ?", [days[i]])
                con.execute(f"insert into main.fct_gpu_usage_hourly {rollup}")
            took = time.perf_counter() - day_start
            print(
                f"  {days[i]}: {n:,} readings in {took:.1f} s = {n / took:,.0f} readings/s, "
                f"peak RSS {peak_rss_mib():,.0f} MiB"
            )
        elapsed = time.perf_counter() - t0
        hours = con.execute("select count(*) from main.fct_gpu_usage_hourly").fetchone()[0]
        con.close()
        print(
            f"rollup: {readings:,} readings -> {hours:,} GPU-hours in {elapsed:.1f} s "
            f"= {readings / elapsed:,.0f} readings/s (threads={args.threads}, memory_limit={args.memory_limit})"
        )
        print(f"peak memory (max RSS of this process): {peak_rss_mib():,.0f} MiB")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
