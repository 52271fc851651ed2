"""A 64-GPU on-prem H100 fleet built by hand (not the sample generator), as issue 16 describes it:
8 hosts x 8 H100 (`gpu-node-00` .. `gpu-node-07`, cluster `onprem-h100`, two racks), two 4-node
Slurm jobs, 6 hours of dcgm-exporter telemetry at a 10 s (or 60 s) scrape, exported from
Prometheus as range-query JSON, one file per host per day; plus one Kubernetes node
(`k8s-node-1`, cluster `onprem-k8s`) whose GPUs are held by pods.

Values are what an H100 SXM really reads: idle 60-90 W, 345 MHz, ~32 C; busy 600-700 W,
GR_ENGINE_ACTIVE ~0.9, SM clock ~1950 MHz, 60-75 C; a 700 W power limit.

Faults injected (everything else is healthy):
- node `gpu-node-07` sits idle inside job 5002 from 00:00 to 02:00 (its job warm-up never
  started), then steps from idle to full load in one scrape at 02:00:00 (~+4.4 kW);
- `gpu-node-07` GPU 3 is a straggler: 0.75 x its peers' activity whenever it is busy;
- `gpu-node-02` GPU 5 is thermally throttled 03:00-04:00: 91 C, SM clock 1290 MHz,
  DCGM_FI_DEV_THERMAL_VIOLATION rising 0.9 s per second, SW+HW thermal clock event bits;
- `gpu-node-01` GPU 6 raises XID 79 (fallen off the bus) at 05:45:00: the XID gauge holds 79 from
  then on and DCGM reads nothing else from the GPU.
Also realistic but harmless: power violation counters creeping by a millisecond per scrape, one
GPU whose violation counters reset (driver reload) at 01:00.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

DAY = "2026-10-05"
DAY_START = int(datetime(2026, 10, 5, tzinfo=UTC).timestamp())
HOURS = 6
CLUSTER = "onprem-h100"
K8S_CLUSTER = "onprem-k8s"
HOSTS = [f"gpu-node-{i:02d}" for i in range(8)]
K8S_HOST = "k8s-node-1"
MODEL = "NVIDIA H100 80GB HBM3"
PRICE = "2.10"  # USD per GPU-hour, declared for onprem-h100
K8S_PRICE = "2.50"

JOB_A, JOB_B = "5001", "5002"
JOB_A_HOSTS, JOB_B_HOSTS = HOSTS[:4], HOSTS[4:]
IDLE_NODE = "gpu-node-07"
IDLE_UNTIL = 2 * 3600  # seconds after midnight
STRAGGLER = ("gpu-node-07", 3)
STRAGGLER_RATIO = 0.75
THROTTLED = ("gpu-node-02", 5)
THROTTLE_FROM, THROTTLE_TO = 3 * 3600, 4 * 3600
XID_GPU = ("gpu-node-01", 6)
XID_AT = 5 * 3600 + 45 * 60
COUNTER_RESET = ("gpu-node-04", 0)

# sacct -P with a site's own --format (no Submit, User, Partition or ExitCode), one file per day
SACCT_FIELDS = "JobID|JobIDRaw|JobName|Account|AllocTRES|NodeList|Start|End|Elapsed|State"
TRES_4_NODES = "billing=768,cpu=768,gres/gpu=32,gres/gpu:h100=32,mem=7680G,node=4"
SACCT = {
    "2026-10-04": [
        f"{JOB_A}|{JOB_A}|llama-70b-pretrain|llm-train|{TRES_4_NODES}|gpu-node-[00-03]|2026-10-04T22:00:00|Unknown|02:00:00|RUNNING",
        f"{JOB_A}.batch|{JOB_A}.batch|batch|llm-train|cpu=192,gres/gpu=8,mem=1920G,node=1|gpu-node-00|2026-10-04T22:00:00|Unknown|02:00:00|RUNNING",
        f"{JOB_A}.extern|{JOB_A}.extern|extern|llm-train|{TRES_4_NODES}|gpu-node-[00-03]|2026-10-04T22:00:00|Unknown|02:00:00|RUNNING",
        f"{JOB_A}.0|{JOB_A}.0|torchrun|llm-train|{TRES_4_NODES}|gpu-node-[00-03]|2026-10-04T22:00:05|Unknown|01:59:55|RUNNING",
        # an array task (2 GPUs) and a heterogeneous job (8 + 4 GPUs) earlier that day
        "4990_3|4993|sweep|search|cpu=16,gres/gpu:h100=2,mem=200G,node=1|gpu-node-05|2026-10-04T10:00:00|2026-10-04T12:00:00|02:00:00|COMPLETED",
        "4990_[4-9]|4990|sweep|search||None assigned|Unknown|Unknown|00:00:00|PENDING",
        "4995+0|4995|moe-eval|research|cpu=96,gres/gpu=8,mem=960G,node=1|gpu-node-06|2026-10-04T14:00:00|2026-10-04T16:00:00|02:00:00|COMPLETED",
        "4995+1|4996|moe-eval|research|cpu=48,gres/gpu=4,mem=480G,node=1|gpu-node-07|2026-10-04T14:00:00|2026-10-04T16:00:00|02:00:00|COMPLETED",
    ],
    "2026-10-05": [
        f"{JOB_A}|{JOB_A}|llama-70b-pretrain|llm-train|{TRES_4_NODES}|gpu-node-[00-03]|2026-10-04T22:00:00|2026-10-05T06:00:00|08:00:00|FAILED",
        f"{JOB_A}.batch|{JOB_A}.batch|batch|llm-train|cpu=192,gres/gpu=8,mem=1920G,node=1|gpu-node-00|2026-10-04T22:00:00|2026-10-05T06:00:00|08:00:00|FAILED",
        f"{JOB_A}.extern|{JOB_A}.extern|extern|llm-train|{TRES_4_NODES}|gpu-node-[00-03]|2026-10-04T22:00:00|2026-10-05T06:00:00|08:00:00|COMPLETED",
        f"{JOB_B}|{JOB_B}|mixtral-sft|fine-tune|{TRES_4_NODES}|gpu-node-[04-07]|2026-10-05T00:00:00|2026-10-05T06:00:00|06:00:00|COMPLETED",
        f"{JOB_B}.extern|{JOB_B}.extern|extern|fine-tune|{TRES_4_NODES}|gpu-node-[04-07]|2026-10-05T00:00:00|2026-10-05T06:00:00|06:00:00|COMPLETED",
        f"{JOB_B}.0|{JOB_B}.0|torchrun|fine-tune|{TRES_4_NODES}|gpu-node-[04-07]|2026-10-05T00:00:10|2026-10-05T06:00:00|05:59:50|COMPLETED",
    ],
}

# Kubernetes pods on k8s-node-1 (dcgm-exporter pod mapping labels), SM_ACTIVE only on this exporter
PODS = [
    # (namespace, pod, container, gpus, until seconds after midnight)
    ("ml-platform", "vllm-serve-7d9f", "vllm", range(0, 4), HOURS * 3600),
    ("research-vision", "trainer-abc12", "trainer", range(4, 8), 3 * 3600),
]
K8S_RULES = """\
rules:
  - namespace: ml-platform
    team: ml-platform
    project: inference
  - namespace: "research-*"
    team: ml-research
"""


@dataclass(frozen=True)
class HostSeries:
    """Readings of one host, each array shaped (scrapes, GPUs); NaN = not read."""

    timestamps: np.ndarray
    labels: list[list[dict[str, str]]]  # per scrape, per GPU: the job / pod labels
    values: dict[str, np.ndarray]


def _uuid(host: str, gpu: int) -> str:
    return f"GPU-{host}-{gpu:02d}"


def host_series(host: str, interval: int, seed: int = 16) -> HostSeries:
    ts = np.arange(DAY_START, DAY_START + HOURS * 3600, interval, dtype=np.int64)
    sec = ts - DAY_START
    n = len(ts)
    rng = np.random.default_rng([seed, HOSTS.index(host) if host in HOSTS else 99, interval])
    busy = np.zeros((n, 8), dtype=bool)
    labels: list[list[dict[str, str]]] = [[{} for _ in range(8)] for _ in range(n)]
    ramp = np.ones((n, 8))
    if host in JOB_A_HOSTS:
        busy[:] = True
        for i in range(n):
            for g in range(8):
                labels[i][g] = {"hpc_job": JOB_A}
    elif host in JOB_B_HOSTS:
        for i in range(n):
            for g in range(8):
                labels[i][g] = {"hpc_job": JOB_B}
        if host == IDLE_NODE:
            busy[sec >= IDLE_UNTIL, :] = True  # idle, then full load in one scrape
        else:
            busy[:] = True
            ramp = np.minimum(1.0, (sec + interval) / 180.0)[:, None] * np.ones((1, 8))  # 3-minute warm-up
    else:  # the Kubernetes node
        for namespace, pod, container, gpus, until in PODS:
            for g in gpus:
                held = sec < until
                busy[held, g] = True
                for i in np.flatnonzero(held):
                    labels[i][g] = {"namespace": namespace, "pod": pod, "container": container}

    activity = np.where(busy, np.clip(rng.normal(0.9, 0.02, (n, 8)), 0.8, 0.98), 0.0) * ramp
    clock = np.where(busy, np.rint(rng.normal(1950, 10, (n, 8))), 345.0)
    power = np.where(busy, 70 + (np.clip(rng.normal(640, 20, (n, 8)), 605, 695) - 70) * ramp,
                     rng.uniform(62, 88, (n, 8)))
    temp = np.where(busy, np.rint(62 + 10 * ramp + rng.normal(0, 1.5, (n, 8))), np.rint(rng.normal(32, 1, (n, 8))))
    reasons = np.where(busy, 0, 1).astype(np.int64)  # 0x1 GPU idle
    thermal_counter = np.full((n, 8), 4.2e12)  # ns of thermal throttling in the GPU's past
    power_counter = 9.1e11 + np.cumsum(np.where(busy, 1e6, 0.0), axis=0)  # ~1 ms per scrape at the cap
    xid = np.zeros((n, 8))

    if host == STRAGGLER[0]:
        g = STRAGGLER[1]
        activity[:, g] *= STRAGGLER_RATIO
        power[:, g] = np.where(busy[:, g], 70 + (power[:, g] - 70) * 0.8, power[:, g])
    if host == THROTTLED[0]:
        g = THROTTLED[1]
        hot = (sec >= THROTTLE_FROM) & (sec < THROTTLE_TO)
        temp[hot, g] = 91
        clock[hot, g] = 1290
        power[hot, g] = rng.uniform(440, 470, hot.sum())
        reasons[hot, g] = 0x20 | 0x40
        thermal_counter[:, g] += np.cumsum(np.where(hot, 0.9 * interval * 1e9, 0.0))
    if host == COUNTER_RESET[0]:
        g = COUNTER_RESET[1]
        after = sec >= 3600
        thermal_counter[after, g] = 0.0
        power_counter[after, g] = np.cumsum(np.where(after, 1e6, 0.0))[after]
    if host == XID_GPU[0]:
        g = XID_GPU[1]
        xid[sec >= XID_AT, g] = 79
        for field in (activity, clock, power, temp, thermal_counter, power_counter):
            field[sec >= XID_AT, g] = np.nan  # off the bus: DCGM reads nothing else
        reasons = reasons.astype(float)
        reasons[sec >= XID_AT, g] = np.nan

    values = {
        "DCGM_FI_DEV_GPU_TEMP": temp,
        "DCGM_FI_DEV_POWER_USAGE": power,
        "DCGM_FI_DEV_GPU_UTIL": np.where(np.isnan(activity), np.nan, np.rint(np.minimum(100, activity * 110))),
        "DCGM_FI_DEV_SM_CLOCK": clock,
        "DCGM_FI_DEV_CLOCKS_EVENT_REASONS": reasons.astype(float),
        "DCGM_FI_DEV_THERMAL_VIOLATION": thermal_counter,
        "DCGM_FI_DEV_POWER_VIOLATION": power_counter,
        "DCGM_FI_DEV_XID_ERRORS": xid,
        # the Kubernetes node's exporter profile has SM_ACTIVE, not GR_ENGINE_ACTIVE
        ("DCGM_FI_PROF_SM_ACTIVE" if host == K8S_HOST else "DCGM_FI_PROF_GR_ENGINE_ACTIVE"): activity,
    }
    return HostSeries(ts, labels, values)


def range_json(host: str, series: HostSeries) -> bytes:
    """The host-day as Prometheus's `/api/v1/query_range` answer: one series per label set."""
    result = []
    for metric, grid in series.values.items():
        for g in range(8):
            base = {"__name__": metric, "gpu": str(g), "UUID": _uuid(host, g), "device": f"nvidia{g}",
                    "modelName": MODEL, "Hostname": host, "instance": f"{host}:9400", "job": "dcgm-exporter"}
            groups: dict[tuple, list] = {}
            for i, t in enumerate(series.timestamps):
                value = grid[i, g]
                if np.isnan(value):
                    continue
                extra = series.labels[i][g]
                text = f"{value:.6f}" if metric in ("DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                                                     "DCGM_FI_PROF_SM_ACTIVE") else f"{value:.0f}"
                groups.setdefault(tuple(sorted(extra.items())), []).append([int(t), text])
            for extra, values in groups.items():
                result.append({"metric": {**base, **dict(extra)}, "values": values})
    body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return gzip.compress(json.dumps(body, separators=(",", ":")).encode(), mtime=0)


def write_fleet(exports: Path, assets: Path, interval: int) -> None:
    """The user's export folder (telemetry only: no cloud bill) and their own declarations."""
    telemetry = exports / "telemetry"
    inventory = telemetry / "inventory"
    inventory.mkdir(parents=True)
    rows = ["hostname,cluster,gpu_model,gpu_count,rack"]
    rows += [f"{h},{CLUSTER},{MODEL},8,rack-{'a' if i < 4 else 'b'}" for i, h in enumerate(HOSTS)]
    rows.append(f"{K8S_HOST},{K8S_CLUSTER},{MODEL},8,")
    (inventory / "nodes.csv").write_text("\n".join(rows) + "\n")
    for day, lines in SACCT.items():
        path = telemetry / "slurm" / CLUSTER / f"{day}.sacct.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([SACCT_FIELDS, *lines]) + "\n")
    for host, cluster in [*((h, CLUSTER) for h in HOSTS), (K8S_HOST, K8S_CLUSTER)]:
        path = telemetry / "prometheus" / cluster / DAY / f"{host}.json.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(range_json(host, host_series(host, interval)))
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "gpu_pricing.yaml").write_text(
        "currency: USD\nclusters:\n"
        f"  - cluster: {CLUSTER}\n    price_per_gpu_hour: \"{PRICE}\"\n    effective_from: 2026-01-01\n"
        f"  - cluster: {K8S_CLUSTER}\n    price_per_gpu_hour: \"{K8S_PRICE}\"\n    effective_from: 2026-01-01\n"
    )
    (assets / "kubernetes_teams.yaml").write_text(K8S_RULES)
