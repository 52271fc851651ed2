"""GPU readings at scale, straight to parquet: one file per UTC day in the shape of
`intermediate.int_gpu_samples` (one row per GPU and reading time, one column per reading).

For benchmarks and scale tests: the same simulation as the DCGM exports (`dcgm.simulate_host_day`:
the Slurm schedule, injected faults), without the text rendering and parsing, so 1,000 GPUs at
10-second samples (8.6 million readings a day) are written in seconds. Memory stays bounded by
writing one host-day at a time into a streaming parquet writer.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from atlas_pipeline.sample_estate import dcgm
from atlas_pipeline.sample_estate.gpu_jobs import SlurmJob, gpu_uuid, simulate_jobs
from atlas_pipeline.sample_estate.spec import EstateSpec
from atlas_pipeline.sample_estate.telemetry import dcgm_days, midnight

SCHEMA = pa.schema([
    ("hostname", pa.string()),
    ("gpu_index", pa.int32()),
    ("gpu_uuid", pa.string()),
    ("gpu_model", pa.string()),
    ("telemetry_source", pa.string()),
    ("hpc_job_id", pa.string()),
    ("k8s_namespace", pa.string()),
    ("k8s_pod", pa.string()),
    ("k8s_container", pa.string()),
    ("sample_at", pa.timestamp("us")),
    ("sample_date", pa.date32()),
    ("interval_seconds", pa.int64()),
    ("gpu_util_pct", pa.float64()),
    ("gr_engine_active", pa.float64()),
    ("sm_active", pa.float64()),
    ("tensor_active", pa.float64()),
    ("activity", pa.float64()),
    ("fb_used_mib", pa.float64()),
    ("power_w", pa.float64()),
    ("temperature_c", pa.float64()),
    ("sm_clock_mhz", pa.float64()),
    ("thermal_violation_counter", pa.float64()),
    ("power_violation_counter", pa.float64()),
    ("throttle_reasons", pa.int64()),
    ("xid_last", pa.int32()),
])


def _host_day_table(host, seed: int, day: dcgm.HostDay, interval: int) -> pa.Table:
    n_t, n_g = day.util.shape
    n = n_t * n_g
    ts = np.repeat(day.timestamps * 1_000_000, n_g)
    job = day.job_ids.reshape(-1)
    activity = np.where(day.blank_profiling, np.nan, day.activity).reshape(-1)
    xid = day.xid.reshape(-1)
    return pa.table(
        {
            "hostname": pa.array([host.hostname] * n, pa.string()),
            "gpu_index": pa.array(np.tile(np.arange(n_g, dtype=np.int32), n_t)),
            "gpu_uuid": pa.array(np.tile(np.array([gpu_uuid(seed, host.hostname, g) for g in range(n_g)]), n_t)),
            "gpu_model": pa.array([host.gpu_model] * n, pa.string()),
            "telemetry_source": pa.array(["dcgm_text"] * n, pa.string()),
            "hpc_job_id": pa.array(np.where(job > 0, job.astype(str), None), pa.string()),
            "k8s_namespace": pa.nulls(n, pa.string()),
            "k8s_pod": pa.nulls(n, pa.string()),
            "k8s_container": pa.nulls(n, pa.string()),
            "sample_at": pa.array(ts, pa.timestamp("us")),
            "sample_date": pa.array((day.timestamps[:1] // 86_400).repeat(n).astype(np.int32), pa.date32()),
            "interval_seconds": pa.array(np.full(n, interval, dtype=np.int64)),
            "gpu_util_pct": pa.array(day.util.reshape(-1).astype(float)),
            "gr_engine_active": pa.array(activity, from_pandas=True),
            "sm_active": pa.nulls(n, pa.float64()),
            "tensor_active": pa.array(day.tensor.reshape(-1)),
            "activity": pa.array(np.where(np.isnan(activity), day.util.reshape(-1) / 100, activity)),
            "fb_used_mib": pa.array(day.fb_used.reshape(-1).astype(float)),
            "power_w": pa.array(day.power.reshape(-1)),
            "temperature_c": pa.array(day.temp.reshape(-1)),
            "sm_clock_mhz": pa.array(day.sm_clock.reshape(-1).astype(float)),
            "thermal_violation_counter": pa.nulls(n, pa.float64()),
            "power_violation_counter": pa.nulls(n, pa.float64()),
            "throttle_reasons": pa.array(day.throttle.reshape(-1)),
            "xid_last": pa.array(xid.astype(np.int32)),
        },
        schema=SCHEMA,
    )


def write_sample_days(
    out_dir: Path, spec: EstateSpec, days: list[date] | None = None, jobs: list[SlurmJob] | None = None
) -> list[tuple[Path, int]]:
    """Write `<out_dir>/<YYYY-MM-DD>.parquet` per day; returns (path, readings) per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = simulate_jobs(spec) if jobs is None else jobs
    schedules = {h.hostname: dcgm.host_schedule(h, jobs) for h in spec.gpu_hosts}
    written = []
    for day in days if days is not None else dcgm_days(spec):
        path = out_dir / f"{day.isoformat()}.parquet"
        rows = 0
        with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
            for host in spec.gpu_hosts:
                host_day = dcgm.simulate_host_day(
                    host, spec.seed, schedules[host.hostname], midnight(day), spec.telemetry_interval_seconds,
                    spec.faults,
                )
                table = _host_day_table(host, spec.seed, host_day, spec.telemetry_interval_seconds)
                writer.write_table(table)
                rows += table.num_rows
        written.append((path, rows))
    return written
