"""dcgm-exporter metrics as a Prometheus server returns them: a range-query JSON export.

One gzip file per host per day, the body of `GET /api/v1/query_range?query={__name__=~"DCGM_FI_.*",
Hostname="<host>"}&step=<interval>`: `{"status": "success", "data": {"resultType": "matrix",
"result": [{"metric": {labels}, "values": [[<unix s>, "<value>"], ...]}, ...]}}`. A series is one
label set, so a GPU's samples split into one series per job that held it (`hpc_job`, and the
Kubernetes `pod` / `namespace` / `container` labels of dcgm-exporter's pod mapping) plus one for
its idle time. Prometheus keeps DCGM's blank sentinel as a number (`"140737488355328"`).
"""

from __future__ import annotations

import json

import numpy as np

from atlas_pipeline.sample_estate.dcgm import HostDay, HostSchedule, pci_bus_id
from atlas_pipeline.sample_estate.gpu_jobs import SlurmJob, gpu_uuid
from atlas_pipeline.sample_estate.spec import GpuHost

BLANK = "140737488355328"


def _values(host_day: HostDay) -> dict[str, np.ndarray]:
    """Value text per metric, shaped (scrapes, GPUs)."""
    activity = np.char.mod("%g", np.round(host_day.activity, 6))
    return {
        "DCGM_FI_DEV_GPU_TEMP": np.char.mod("%d", host_day.temp.astype(np.int64)),
        "DCGM_FI_DEV_POWER_USAGE": np.char.mod("%.3f", host_day.power),
        "DCGM_FI_DEV_GPU_UTIL": np.char.mod("%d", host_day.util.astype(np.int64)),
        "DCGM_FI_DEV_FB_USED": np.char.mod("%d", host_day.fb_used.astype(np.int64)),
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE": np.where(host_day.blank_profiling, BLANK, activity),
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": np.char.mod("%g", np.round(host_day.tensor, 6)),
        "DCGM_FI_DEV_SM_CLOCK": np.char.mod("%d", host_day.sm_clock.astype(np.int64)),
        "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS": np.char.mod("%d", host_day.throttle),
        "DCGM_FI_DEV_XID_ERRORS": np.char.mod("%d", host_day.xid),
    }


def render_range_json(
    host: GpuHost, seed: int, schedule: HostSchedule, host_day: HostDay, jobs_by_id: dict[int, SlurmJob]
) -> bytes:
    """The range-query JSON of one host-day."""
    values = _values(host_day)
    ts = host_day.timestamps
    result = []
    for metric, text in values.items():
        for g in range(host.gpu_count):
            base = {
                "__name__": metric,
                "gpu": str(g),
                "UUID": gpu_uuid(seed, host.hostname, g),
                "pci_bus_id": pci_bus_id(g),
                "device": f"nvidia{g}",
                "modelName": host.gpu_model,
                "Hostname": host.hostname,
                "instance": f"{host.hostname}:9400",
                "job": "dcgm-exporter",
            }
            held = host_day.job_ids[:, g]
            for job_id in sorted(set(held.tolist())):
                mask = held == job_id
                labels = dict(base)
                if job_id:
                    job = jobs_by_id.get(job_id)
                    labels["hpc_job"] = str(job_id)
                    if job is not None:
                        labels["namespace"] = job.team
                        labels["pod"] = f"{job.name}-{job_id}"
                        labels["container"] = job.name
                result.append(
                    {"metric": labels, "values": [[int(t), v] for t, v in zip(ts[mask], text[mask, g], strict=True)]}
                )
    body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return json.dumps(body, separators=(",", ":")).encode()
