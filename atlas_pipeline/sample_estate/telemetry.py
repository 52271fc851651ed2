"""GPU telemetry of the sample estate: DCGM samples, Slurm accounting and the node inventory.

Layout under `out_dir` (what a telemetry bucket holds):

    telemetry/dcgm/<cluster>/<YYYY-MM-DD>/<hostname>.prom.gz   dcgm-exporter scrapes, per host per day
    telemetry/slurm/<cluster>/<YYYY-MM-DD>.sacct.txt           `sacct -P` for the day, per cluster
    telemetry/prometheus/<cluster>/<YYYY-MM-DD>/<host>.json.gz Prometheus range-query export (on-prem)
    telemetry/nvidia_smi/<cluster>/<YYYY-MM-DD>/<host>.csv     `nvidia-smi --query-gpu` log (on-prem)
    telemetry/inventory/nodes.csv                              hostname -> cluster, cloud instance

Slurm files cover every day of the estate; DCGM files only the last `spec.telemetry_days` days
(all days if None). Both come from one simulated schedule (`gpu_jobs.py`), so a sample carries
`hpc_job` exactly while that job holds the GPU. Same spec -> byte-identical files.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

from atlas_pipeline.sample_estate import dcgm, node_inventory, nvidia_smi, prometheus_range, slurm_sacct
from atlas_pipeline.sample_estate.gpu_jobs import SlurmJob, simulate_jobs
from atlas_pipeline.sample_estate.spec import EstateSpec, GpuHost

TELEMETRY_DIR = "telemetry"
_COMPRESS_THREADS = 4


def midnight(day: date) -> int:
    """Unix seconds of `day` 00:00 UTC."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def dcgm_days(spec: EstateSpec) -> list[date]:
    """The days that get DCGM samples: the last `telemetry_days` of the estate, or all of them."""
    all_days = slurm_sacct.days(spec.start_month, spec.end_exclusive)
    if spec.telemetry_days is None:
        return all_days
    return all_days[-spec.telemetry_days :] if spec.telemetry_days > 0 else []


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_inventory(out_dir: Path, spec: EstateSpec) -> Path:
    path = out_dir / TELEMETRY_DIR / "inventory" / "nodes.csv"
    return _write(path, node_inventory.render_inventory(spec.gpu_hosts).encode())


def write_sacct(out_dir: Path, spec: EstateSpec, jobs: list[SlurmJob]) -> list[Path]:
    paths = []
    for cluster in sorted({h.cluster for h in spec.gpu_hosts}):
        cluster_jobs = [j for j in jobs if j.cluster == cluster]
        for day in slurm_sacct.days(spec.start_month, spec.end_exclusive):
            text = slurm_sacct.render_day(cluster_jobs, midnight(day))
            path = out_dir / TELEMETRY_DIR / "slurm" / cluster / slurm_sacct.day_file_name(day)
            paths.append(_write(path, text.encode()))
    return paths


def write_dcgm(out_dir: Path, spec: EstateSpec, jobs: list[SlurmJob]) -> list[Path]:
    if spec.telemetry_interval_seconds <= 0:
        raise ValueError("telemetry_interval_seconds must be positive")
    days = dcgm_days(spec)
    paths: list[Path] = []
    # zlib releases the GIL: compress host-days on threads while the next ones are rendered,
    # with a bounded number in flight so memory stays flat at any estate size.
    in_flight: deque[tuple[Path, Future[bytes]]] = deque()
    with ThreadPoolExecutor(max_workers=_COMPRESS_THREADS) as pool:
        for host in spec.fleet:
            schedule = dcgm.host_schedule(host, jobs)
            for day in days:
                text = dcgm.render_host_day(
                    host, spec.seed, schedule, midnight(day), spec.telemetry_interval_seconds, spec.faults
                )
                path = out_dir / TELEMETRY_DIR / "dcgm" / host.cluster / day.isoformat() / f"{host.hostname}.prom.gz"
                in_flight.append((path, pool.submit(dcgm.compress, text)))
                if len(in_flight) > 2 * _COMPRESS_THREADS:
                    done_path, future = in_flight.popleft()
                    paths.append(_write(done_path, future.result()))
        while in_flight:
            done_path, future = in_flight.popleft()
            paths.append(_write(done_path, future.result()))
    return paths


def telemetry_format(spec: EstateSpec, host: GpuHost) -> str:
    """How a host's GPU readings are exported: cloud hosts ship dcgm-exporter scrapes; on-prem
    hosts alternate between a Prometheus range-query export and nvidia-smi CSV logs."""
    if host in spec.fleet:
        return "dcgm_text"
    return "prometheus_json" if spec.onprem_fleet.index(host) % 2 == 0 else "nvidia_smi_csv"


def write_onprem(out_dir: Path, spec: EstateSpec, jobs: list[SlurmJob]) -> list[Path]:
    """Prometheus range-query JSON and nvidia-smi CSV logs of the on-prem hosts."""
    paths: list[Path] = []
    for host in spec.onprem_fleet:
        schedule = dcgm.host_schedule(host, jobs)
        own = {j.job_id: j for j in jobs if j.hostname == host.hostname}
        fmt = telemetry_format(spec, host)
        for day in dcgm_days(spec):
            host_day = dcgm.simulate_host_day(
                host, spec.seed, schedule, midnight(day), spec.telemetry_interval_seconds, spec.faults
            )
            if fmt == "prometheus_json":
                data = dcgm.compress(prometheus_range.render_range_json(host, spec.seed, schedule, host_day, own))
                path = out_dir / TELEMETRY_DIR / "prometheus" / host.cluster / day.isoformat() / f"{host.hostname}.json.gz"
            else:
                data = nvidia_smi.render_csv(host, spec.seed, host_day, dcgm._board(host.gpu_model)[1])
                path = out_dir / TELEMETRY_DIR / "nvidia_smi" / host.cluster / day.isoformat() / f"{host.hostname}.csv"
            paths.append(_write(path, data))
    return paths


def generate_telemetry(out_dir: Path, spec: EstateSpec) -> list[Path]:
    """Write the estate's GPU telemetry under `out_dir/telemetry/`; returns the files written."""
    out_dir = Path(out_dir)
    jobs = simulate_jobs(spec)
    paths = [write_inventory(out_dir, spec)]
    paths += write_sacct(out_dir, spec, jobs)
    paths += write_dcgm(out_dir, spec, jobs)
    paths += write_onprem(out_dir, spec, jobs)
    return sorted(paths)


__all__ = ["dcgm_days", "generate_telemetry", "telemetry_format"]
