"""Benchmark: reading Prometheus range-query JSON exports (dcgm-exporter series, one gzip file per
host per day) with bounded memory. Prints, per stage, samples, seconds, samples/s, peak resident
memory of the process that ran it, and the time as a multiple of DuckDB's bare read of the same
files (the floor: parse every JSON document, nothing more).

    .venv/bin/python bench/prometheus_reader.py                    # 1,000 GPUs (125 hosts) x 1 day at 10 s
    .venv/bin/python bench/prometheus_reader.py --hosts 8          # quick

Stages (each in its own child process, so each peak is its own):
- floor: `read_json_objects` of every file, the documents' length summed;
- raw view: the `raw.dcgm_prometheus_exports` reader (lib/ingest/raw_telemetry.py) over all files,
  aggregated per file in SQL as the raw GX check does (gx_raw_dcgm_prometheus_exports);
- streaming converter: `write_prometheus_range_parquet` (ijson) on every file, one after another.

Files: the sample estate's simulation of a few distinct hosts, rendered as Prometheus would write
them, then copied under other host names (same size and shape) up to `--hosts`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from atlas_pipeline.lib.warehouse.connections import DEFAULT_MEMORY_LIMIT  # noqa: E402
from atlas_pipeline.sample_estate import dcgm, prometheus_range  # noqa: E402
from atlas_pipeline.sample_estate.gpu_jobs import simulate_jobs  # noqa: E402
from atlas_pipeline.sample_estate.spec import EstateSpec, scaled_fleet  # noqa: E402

DAY = date(2026, 9, 30)
DISTINCT_HOSTS = 4


def generate(folder: Path, hosts: int, interval: int) -> list[Path]:
    fleet = scaled_fleet(min(hosts, DISTINCT_HOSTS))
    spec = replace(EstateSpec(start_month=date(2026, 9, 1), months=1), fleet=(), onprem_fleet=fleet,
                   telemetry_interval_seconds=interval, faults=())
    jobs = simulate_jobs(spec)
    midnight = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp())
    rendered = []
    for host in fleet:
        schedule = dcgm.host_schedule(host, jobs)
        host_day = dcgm.simulate_host_day(host, spec.seed, schedule, midnight, interval, ())
        own = {j.job_id: j for j in jobs if j.hostname == host.hostname}
        rendered.append((host.hostname, prometheus_range.render_range_json(host, spec.seed, schedule, host_day, own)))
    day_dir = folder / "x_period=2026-09-30" / "x_export_version=bench"
    day_dir.mkdir(parents=True)
    paths = []
    for i in range(hosts):
        source_host, body = rendered[i % len(rendered)]
        name = f"gpu-{i:05d}"
        path = day_dir / f"{name}.json.gz"
        path.write_bytes(dcgm.compress(body.replace(f'"{source_host}'.encode(), f'"{name}'.encode())))
        paths.append(path)
    return paths


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join(f"'{p}'" for p in paths) + "]"


def _stage(name: str, paths: list[Path], threads: int, memory_limit: str, out: mp.Queue) -> None:
    import duckdb

    from atlas_pipeline.lib.ingest.raw_telemetry import telemetry_reader_sql, write_prometheus_range_parquet

    start = time.perf_counter()
    if name == "floor":
        con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit})
        (rows,), = con.execute(
            f"select sum(length(json)) from read_json_objects({_sql_list(paths)}, format = 'unstructured', "
            "maximum_object_size = 268435456)").fetchall()
        samples = None
    elif name == "raw view (per-file SQL aggregate, as the raw check)":
        con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit})
        relation = telemetry_reader_sql("prometheus_range_json", _sql_list(paths),
                                        "hive_partitioning = true, hive_types_autocast = false, filename = 'x_source_file'")
        rows = con.execute(
            f"select x_source_file, x_period, count(*), count(*) filter (where metric_labels['__name__'] is null) "
            f"from {relation} group by all").fetchall()
        samples = sum(r[2] for r in rows)
    else:
        samples = 0
        with tempfile.TemporaryDirectory() as tmp:
            for path in paths:
                samples += write_prometheus_range_parquet(path, Path(tmp) / (path.name + ".parquet"))
    seconds = time.perf_counter() - start
    out.put({"stage": name, "samples": samples, "seconds": seconds,
             "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def run_stage(name: str, paths: list[Path], threads: int, memory_limit: str) -> dict:
    queue: mp.Queue = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(target=_stage, args=(name, paths, threads, memory_limit, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=125, help="hosts of 8 GPUs (default 125 = 1,000 GPUs)")
    parser.add_argument("--interval", type=int, default=10, help="scrape interval, seconds (default 10)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, help="DuckDB memory_limit (the warehouse's)")
    parser.add_argument("--skip-streaming", action="store_true", help="skip the ijson converter (slowest stage)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="atlas-prom-bench-"))
    try:
        started = time.perf_counter()
        paths = generate(work, args.hosts, args.interval)
        size = sum(p.stat().st_size for p in paths)
        took = time.perf_counter() - started
        print(f"generated {len(paths)} host-day files ({size / 2**20:.1f} MiB gzip) in {took:.1f} s")
        stages = ["floor", "raw view (per-file SQL aggregate, as the raw check)"]
        if not args.skip_streaming:
            stages.append("streaming converter (ijson -> parquet)")
        results = [run_stage(name, paths, args.threads, args.memory_limit) for name in stages]
        floor = results[0]["seconds"]
        samples = results[1]["samples"]
        print(f"\n{'stage':<52} {'samples':>12} {'seconds':>8} {'samples/s':>10} {'peak RSS':>9} {'x floor':>7}")
        for r in results:
            n = r["samples"] if r["samples"] is not None else samples
            print(f"{r['stage']:<52} {n:>12,} {r['seconds']:>8.1f} {n / r['seconds']:>10,.0f} "
                  f"{r['peak_rss_mib']:>6,.0f} MiB {r['seconds'] / floor:>7.1f}")
        print(json.dumps({"hosts": args.hosts, "interval": args.interval, "files_mib": size / 2**20, "stages": results}))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
