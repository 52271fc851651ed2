"""Benchmark: placement and stranded-GPU marts (issue 22) on a generated Slurm cluster, through the
real pipeline: sacct files and nodes.csv landed by the landing code, then `dbt build` of
fct_gpu_job_placement and fct_gpu_fragmentation_daily with everything they read. Prints each
model's time (dbt's run_results.json), its rows, and the ratio to DuckDB's bare scan of the
job-node rows measured in the same run.

    .venv/bin/python bench/gpu_fragmentation.py --nodes 1000 --days 7     # 8,000 GPUs, ~80k jobs
    .venv/bin/python bench/gpu_fragmentation.py --nodes 200 --days 2      # quick

Jobs arrive uniformly over each day with a mix of sizes (1, 2, 4, 8 GPUs on one node; 16-64 on
whole nodes) and log-normal run times (median ~1.5 h); a first-come-first-served first-fit
scheduler places them, so jobs wait in the queue and nodes run partly used, as in a busy cluster.
"""

from __future__ import annotations

import argparse
import heapq
import json
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import hostlist
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# The landing and dbt runner the dbt tests use too (their fixtures `land_estate`, `dbt`).
from atlas_pipeline.lib.warehouse.standalone_build import land_declared_estate as land_estate  # noqa: E402
from atlas_pipeline.lib.warehouse.standalone_build import run_dbt as dbt  # noqa: E402

START = datetime(2026, 9, 1, tzinfo=UTC)
SIZES = np.array([1, 2, 4, 8, 16, 32, 64])
SIZE_WEIGHTS = np.array([0.35, 0.15, 0.15, 0.2, 0.08, 0.05, 0.02])
MODELS = ("int_slurm_job_nodes", "int_gpu_pending_job_shapes", "int_gpu_node_occupancy_intervals",
          "fct_gpu_cost_allocation", "fct_gpu_job_placement", "fct_gpu_fragmentation_daily")


def simulate(nodes: int, days: int, jobs_per_day: int, seed: int = 22) -> list[dict]:
    """First-come-first-served first fit: each job starts as soon as it fits (its GPUs on one node
    up to 8, whole nodes above), in arrival order."""
    rng = np.random.default_rng(seed)
    count = days * jobs_per_day
    arrivals = np.sort(rng.uniform(0, days * 86400, count))
    sizes = rng.choice(SIZES, count, p=SIZE_WEIGHTS)
    durations = np.clip(rng.lognormal(np.log(5400), 0.8, count), 300, 36 * 3600)
    free = np.full(nodes, 8)
    ends: list[tuple[float, list[int], int]] = []  # (end, nodes, gpus per node)
    queue: list[int] = []
    jobs = []
    now, i = 0.0, 0
    while i < count or queue:
        next_arrival = arrivals[i] if i < count else np.inf
        next_end = ends[0][0] if ends else np.inf
        now = min(next_arrival, next_end)
        if now == np.inf or now > days * 86400:
            break
        while ends and ends[0][0] <= now:
            _, held, per = heapq.heappop(ends)
            free[held] += per
        while i < count and arrivals[i] <= now:
            queue.append(i)
            i += 1
        started = []
        for j in queue:  # FCFS: a job blocks those behind it (no backfill)
            size = int(sizes[j])
            if size <= 8:
                fits = np.flatnonzero(free >= size)
                if not len(fits):
                    break
                held, per = [int(fits[0])], size
            else:
                whole = np.flatnonzero(free == 8)
                if len(whole) < size // 8:
                    break
                held, per = [int(n) for n in whole[: size // 8]], 8
            free[held] -= per
            heapq.heappush(ends, (now + durations[j], held, per))
            jobs.append({"id": 100000 + j, "gpus": size, "nodes": held, "submit": arrivals[j], "start": now,
                         "end": now + durations[j]})
            started.append(j)
        queue = queue[len(started):]
    return jobs


def sacct_files(jobs: list[dict], folder: Path, days: int) -> int:
    """One `sacct -P` file per day listing the jobs that ran or waited that day (their final state)."""
    header = "JobID|JobIDRaw|JobName|Account|AllocTRES|NodeList|Submit|Start|End|Elapsed|State"
    stamp = lambda s: (START + timedelta(seconds=float(s))).strftime("%Y-%m-%dT%H:%M:%S")  # noqa: E731
    lines_written = 0
    for day in range(days):
        lo, hi = day * 86400, (day + 1) * 86400
        rows = [header]
        for job in jobs:
            if job["submit"] < hi and job["end"] > lo:
                names = hostlist.collect_hostlist([f"gpu-{n:04d}" for n in job["nodes"]])
                tres = f"cpu={job['gpus'] * 24},gres/gpu={job['gpus']},node={len(job['nodes'])}"
                rows.append(f"{job['id']}|{job['id']}|bench|team-{job['id'] % 7}|{tres}|{names}|"
                            f"{stamp(job['submit'])}|{stamp(job['start'])}|{stamp(job['end'])}|00:00:00|COMPLETED")
        day_name = (START + timedelta(days=day)).strftime("%Y-%m-%d")
        path = folder / "telemetry" / "slurm" / "bench" / f"{day_name}.sacct.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(rows) + "\n")
        lines_written += len(rows) - 1
    return lines_written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000, help="8-GPU nodes (default 1,000 = 8,000 GPUs)")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--load", type=float, default=0.95,
                        help="GPU-hours asked / GPU-hours the cluster has (default 0.95: jobs wait, nodes partly used)")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed after)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="atlas-bench-frag-"))
    try:
        t0 = time.perf_counter()
        mean_gpu_hours = float((SIZES * SIZE_WEIGHTS).sum()) * 5400 * np.exp(0.8**2 / 2) / 3600
        jobs_per_day = int(args.load * args.nodes * 8 * 24 / mean_gpu_hours)
        jobs = simulate(args.nodes, args.days, jobs_per_day)
        exports, assets = work / "exports", work / "assets"
        inventory = exports / "telemetry" / "inventory"
        inventory.mkdir(parents=True, exist_ok=True)
        header = "hostname,cluster,provider,gpu_model,gpu_count,rack,leaf_switch,nvlink_domain\n"
        (inventory / "nodes.csv").write_text(header + "".join(
            f"gpu-{n:04d},bench,onprem,NVIDIA H100 80GB HBM3,8,rack-{n // 32},leaf-{n // 16},nvl-{n // 32}\n"
            for n in range(args.nodes)))
        lines = sacct_files(jobs, exports, args.days)
        assets.mkdir(parents=True, exist_ok=True)
        (assets / "gpu_pricing.yaml").write_text('clusters:\n  - cluster: bench\n    price_per_gpu_hour: "2.00"\n')
        generated = time.perf_counter() - t0
        db = work / "warehouse.duckdb"
        t0 = time.perf_counter()
        land_estate(exports, db, work, {"gpu_nodes", "slurm_jobs"}, assets=assets)
        landed = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = dbt(db, work, "build", "--indirect-selection", "cautious", "--select",
                     "+fct_gpu_fragmentation_daily", "--exclude-resource-type", "unit_test")
        built = time.perf_counter() - t0
        if result.returncode != 0:
            raise SystemExit(result.stdout[-4000:])
        timings = {r["unique_id"].split(".")[-1]: r["execution_time"]
                   for r in json.loads((work / "target" / "run_results.json").read_text())["results"]}
        con = duckdb.connect(str(db), read_only=True)
        t0 = time.perf_counter()
        con.execute("select count(*), sum(gpus_on_node), max(allocated_until) "
                    "from intermediate.int_slurm_job_nodes").fetchall()
        floor = max(time.perf_counter() - t0, 1e-6)
        schema = {m: "main" if m.startswith("fct") else "intermediate" for m in MODELS}
        rows = {m: con.execute(f"select count(*) from {schema[m]}.{m}").fetchone()[0] for m in MODELS}
        stranded, wider = con.execute("select sum(gpu_hours_stranded), sum(gpu_hours_placed_wider) "
                                      "from main.fct_gpu_fragmentation_daily").fetchone()
        con.close()
        waited = sum(1 for j in jobs if j["start"] > j["submit"])
        print(f"{args.nodes} nodes x 8 GPUs, {args.days} days, {len(jobs):,} jobs ({waited:,} waited; "
              f"{lines:,} sacct lines); "
              f"generated {generated:.1f} s, landed {landed:.1f} s, dbt build {built:.1f} s (whole graph incl. tests)")
        print(f"floor: DuckDB scans the {rows['int_slurm_job_nodes']:,} job-node rows in {floor * 1000:.1f} ms")
        print("| model | rows | seconds | x floor |\n|---|---:|---:|---:|")
        for model in MODELS:
            print(f"| {model} | {rows[model]:,} | {timings.get(model, float('nan')):.2f} | "
                  f"{timings.get(model, float('nan')) / floor:,.0f} |")
        print(f"stranded {stranded:,.0f} GPU-hours, placed wider {wider:,.0f} GPU-hours; "
              f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
              "(dbt runs in its own process)")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
