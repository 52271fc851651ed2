"""A hand-built GPU estate for issue 22 (placement, stranded GPUs, input-bound idle, scores, fault
drills), every number below chosen so the marts have a known answer.

Cluster `train-a` (on-prem, 2.00 USD per GPU-hour): 8 hosts x 8 H100 (`a-node-00` .. `a-node-07`),
topology declared in nodes.csv (the leaf column spelled `tor_switch`, an alias):

    rack-1 = nvl-1: a-node-00 .. 03   leaf-1: 00, 01   leaf-2: 02, 03
    rack-2 = nvl-2: a-node-04 .. 07   leaf-3: 04, 05   leaf-4: 06, 07

Cluster `train-b`: two hosts without any topology in the inventory (unknown, not guessed) and one
16-GPU job on both (7101, D1 00:00-01:00), no telemetry, no price.

Cluster `drill-lab`: one idle host `lab-00` (no topology, no price, no Slurm), where a fault drill
was run on 2026-11-03.

Slurm (sacct with Submit and ReqTRES), 2026-11-02 (D1):
    7001 llm     16 GPUs a-node-[00-01] 00:00-06:00   packed
    7002 vision  16 GPUs a-node-[03-04] 01:00-05:00   2 racks / 2 leaves / 2 NVLink domains, 1 each would do
    7003 llm      8 GPUs a-node-[05-06] 02:00-04:00   4 + 4 on 2 nodes and 2 leaves; 1 node would do
    7004 search   1 GPU  a-node-02      02:00-04:00   (single GPU: not a placement question)
    7005 llm     16 GPUs a-node-[06-07] submitted 02:00, started 04:00-06:00: it needed two whole
                 nodes while a-node-02 (7 free), -05 and -06 (4 free each) sat partly used: 15 GPUs
                 stranded for 2 h = 30 GPU-hours = 60.00 USD
2026-11-03 (D2):
    7010 llm 32 GPUs a-node-[00-03], 7011 vision 32 GPUs a-node-[04-07], 00:00-06:00 (packed)
    7013 llm 4 GPUs a-node-00 07:00-09:00; 7014 search 2 GPUs a-node-00 submitted 07:30, ran
    08:00-09:00 (it would have fit on a-node-00: free, not stranded); 7015 llm asks 8 GPUs
    (ReqTRES), PENDING from 20:00 to the end of the day, all nodes idle (nothing stranded).

Telemetry (dcgm-exporter via Prometheus range JSON, 60 s, 00:00-06:00 each day): busy GPUs read
GR_ENGINE_ACTIVE 0.9, SM clock 1950 MHz; idle ones 0, 345 MHz.
    7001 on D1: busy 00-01, waits on input 01-02 (activity 0.05; a-node-00's disk and a-node-01's
         network and NFS client read at their ceiling), idle 02-03 (activity 0, no I/O), busy 03-06.
    7005: 04:00-04:30 activity 0.1 while every GPU's PCIe RX runs at its 24 GB/s ceiling
         (DCGM_FI_PROF_PCIE_RX_BYTES, no node_exporter on those hosts), busy after.
    7004: idle 03-04 with no I/O telemetry at all.
node_exporter (range JSON, 15 s) only for a-node-00 and a-node-01, both days.

Known bad GPUs: a-node-04 GPU 3 straggles (0.75 x its job's activity) whenever busy, both days;
a-node-07 GPU 1 runs its busy clock at 0.88 x the fleet's (1716 MHz), both days; a-node-02 GPU 5 is
thermally throttled 02:00-03:00 on D2 (91 C, 1290 MHz); a-node-05 GPU 7 raises XID 79 at 03:00 on D2
and then reads nothing else. Everything else is healthy.

Fault drill on lab-00, D2 (drills/drill-2026-11-03.csv), replayed into its telemetry as the
exporter would scrape it:
    GPU 0 XID 79 at 01:00:20; GPU 1 XID 13 at 01:30:20; GPU 2 GPU_TEMP 92 C 02:00:20 for 600 s;
    GPU 3 HW power brake (clock event reasons 0x80) 02:30:20 for 300 s (shorter than the 600 s a
    power throttle needs: missed); GPU 4 the same 03:00:20 for 900 s (detected once 600 s had
    passed); GPU 5 one double-bit ECC error at 04:00:20; GPU 6 GPU_TEMP 85 C (below the H100's
    89 C slowdown: missed) 04:30:20 for 600 s.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

CLUSTER = "train-a"
LAB_CLUSTER = "drill-lab"
MODEL = "NVIDIA H100 80GB HBM3"
PRICE = "2.00"
HOSTS = [f"a-node-{i:02d}" for i in range(8)]
LAB = "lab-00"
B_CLUSTER, B_HOSTS = "train-b", ["b-node-00", "b-node-01"]
RACK = {h: "rack-1" if i < 4 else "rack-2" for i, h in enumerate(HOSTS)}
LEAF = {h: f"leaf-{i // 2 + 1}" for i, h in enumerate(HOSTS)}
NVLINK = {h: "nvl-1" if i < 4 else "nvl-2" for i, h in enumerate(HOSTS)}
D1, D2 = "2026-11-02", "2026-11-03"
DAYS = (D1, D2)
INTERVAL = 60
HOURS = 6
NODE_EXPORTER_INTERVAL = 15
BUSY, IDLE_CLOCK, BUSY_CLOCK = 0.9, 345.0, 1950.0

STRAGGLER = ("a-node-04", 3)
SLOW_CLOCK = ("a-node-07", 1)
SLOW_CLOCK_MHZ = 1716.0  # 0.88 x 1950
THROTTLED = ("a-node-02", 5)  # D2 02:00-03:00
XID_GPU = ("a-node-05", 7)  # D2 03:00
DISK_HOST, NETWORK_HOST = "a-node-00", "a-node-01"
GB = 1e9

SACCT_FIELDS = "JobID|JobIDRaw|JobName|Account|AllocTRES|ReqTRES|NodeList|Submit|Start|End|Elapsed|State"


def _tres(gpus: int, nodes: int) -> str:
    return f"billing={gpus * 24},cpu={gpus * 24},gres/gpu={gpus},gres/gpu:h100={gpus},mem={gpus * 240}G,node={nodes}"


def _job(jid: str, name: str, team: str, gpus: int, nodes: int, node_list: str, submit: str, start: str,
         end: str, state: str = "COMPLETED") -> str:
    t = _tres(gpus, nodes)
    return f"{jid}|{jid}|{name}|{team}|{t}|{t}|{node_list}|{submit}|{start}|{end}|00:00:00|{state}"


SACCT = {
    D1: [
        _job("7001", "llama-pretrain", "llm", 16, 2, "a-node-[00-01]", "2026-11-02T00:00:00", "2026-11-02T00:00:00",
             "2026-11-02T06:00:00"),
        _job("7002", "vit-train", "vision", 16, 2, "a-node-[03-04]", "2026-11-02T01:00:00", "2026-11-02T01:00:00",
             "2026-11-02T05:00:00"),
        _job("7003", "lora-sweep", "llm", 8, 2, "a-node-[05-06]", "2026-11-02T02:00:00", "2026-11-02T02:00:00",
             "2026-11-02T04:00:00"),
        _job("7004", "embed", "search", 1, 1, "a-node-02", "2026-11-02T02:00:00", "2026-11-02T02:00:00",
             "2026-11-02T04:00:00"),
        _job("7005", "sft", "llm", 16, 2, "a-node-[06-07]", "2026-11-02T02:00:00", "2026-11-02T04:00:00",
             "2026-11-02T06:00:00"),
        # a step row repeats its allocation
        "7005.0|7005.0|torchrun|llm|" + _tres(16, 2) + "||a-node-[06-07]|2026-11-02T04:00:05|2026-11-02T04:00:05|"
        "2026-11-02T06:00:00|01:59:55|COMPLETED",
    ],
    D2: [
        _job("7010", "llama-pretrain-2", "llm", 32, 4, "a-node-[00-03]", "2026-11-03T00:00:00", "2026-11-03T00:00:00",
             "2026-11-03T06:00:00"),
        _job("7011", "vit-train-2", "vision", 32, 4, "a-node-[04-07]", "2026-11-03T00:00:00", "2026-11-03T00:00:00",
             "2026-11-03T06:00:00"),
        _job("7013", "eval", "llm", 4, 1, "a-node-00", "2026-11-03T07:00:00", "2026-11-03T07:00:00",
             "2026-11-03T09:00:00"),
        _job("7014", "rerank", "search", 2, 1, "a-node-00", "2026-11-03T07:30:00", "2026-11-03T08:00:00",
             "2026-11-03T09:00:00"),
        # never started: no AllocTRES, its shape from ReqTRES
        "7015|7015|sft-big|llm||billing=192,cpu=192,gres/gpu=8,mem=1920G,node=1|None assigned|"
        "2026-11-03T20:00:00|Unknown|Unknown|00:00:00|PENDING",
    ],
}

# Which job holds which GPUs when: (day, job, host, gpus, start hour, end hour)
HOLDS = [
    (D1, "7001", "a-node-00", range(8), 0, 6), (D1, "7001", "a-node-01", range(8), 0, 6),
    (D1, "7002", "a-node-03", range(8), 1, 5), (D1, "7002", "a-node-04", range(8), 1, 5),
    (D1, "7003", "a-node-05", range(4), 2, 4), (D1, "7003", "a-node-06", range(4), 2, 4),
    (D1, "7004", "a-node-02", range(1), 2, 4),
    (D1, "7005", "a-node-06", range(8), 4, 6), (D1, "7005", "a-node-07", range(8), 4, 6),
    *[(D2, "7010", h, range(8), 0, 6) for h in HOSTS[:4]],
    *[(D2, "7011", h, range(8), 0, 6) for h in HOSTS[4:]],
]

# The drill log: (GPU, DCGM field id, value, offset seconds after midnight, seconds held, class as logged)
DRILL_ID = "drill-2026-11-03"
DRILL = [
    (0, 230, "79", 3600 + 20, 0, "xid"),
    (1, 230, "13", 5400 + 20, 0, "xid"),
    (2, 150, "92", 7200 + 20, 600, "thermal"),
    (3, 112, "128", 9000 + 20, 300, ""),   # class from the field: HW power brake bit -> power
    (4, 112, "128", 10800 + 20, 900, ""),
    (5, 311, "1", 14400 + 20, 0, "ecc_dbe"),
    (6, 150, "85", 16200 + 20, 600, "thermal"),
]


def _day_start(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


def _grid(day: str) -> tuple[np.ndarray, np.ndarray]:
    ts = np.arange(_day_start(day), _day_start(day) + HOURS * 3600, INTERVAL, dtype=np.int64)
    return ts, ts - _day_start(day)


def gpu_series(host: str, day: str) -> tuple[np.ndarray, list[list[str | None]], dict[str, np.ndarray]]:
    """One host-day of DCGM readings: timestamps, the job label per reading and GPU, and each field's
    values shaped (readings, 8) (NaN = not read)."""
    ts, sec = _grid(day)
    n = len(ts)
    job: list[list[str | None]] = [[None] * 8 for _ in range(n)]
    activity = np.zeros((n, 8))
    for hold_day, jid, hold_host, gpus, start, end in HOLDS:
        if hold_day != day or hold_host != host:
            continue
        held = (sec >= start * 3600) & (sec < end * 3600)
        for g in gpus:
            activity[held, g] = BUSY
            for i in np.flatnonzero(held):
                job[i][g] = jid
    hour = sec // 3600
    if day == D1 and host in (DISK_HOST, NETWORK_HOST):  # job 7001: waits on input, then idles
        activity[hour == 1, :] = 0.05
        activity[hour == 2, :] = 0.0
    if day == D1 and host in ("a-node-06", "a-node-07"):  # job 7005 first waits on host-to-device copies
        activity[(sec >= 4 * 3600) & (sec < 4 * 3600 + 1800), :] = 0.1
    if day == D1 and host == "a-node-02":  # job 7004 idles its last hour, no I/O telemetry
        activity[hour == 3, 0] = 0.0
    if host == STRAGGLER[0]:
        activity[:, STRAGGLER[1]] *= 0.75
    busy = activity >= 0.3
    clock = np.where(busy, BUSY_CLOCK, IDLE_CLOCK)
    if host == SLOW_CLOCK[0]:
        clock[busy[:, SLOW_CLOCK[1]], SLOW_CLOCK[1]] = SLOW_CLOCK_MHZ
    power = np.where(busy, 640.0, 70.0)
    temp = np.where(busy, 68.0, 33.0)
    reasons = np.where(busy, 0.0, 1.0)
    thermal_counter = np.full((n, 8), 4.2e12)
    xid = np.zeros((n, 8))
    ecc = np.zeros((n, 8))
    if day == D2 and host == THROTTLED[0]:
        g, hot = THROTTLED[1], hour == 2
        temp[hot, g], clock[hot, g], power[hot, g], reasons[hot, g] = 91.0, 1290.0, 455.0, 0x60
        thermal_counter[:, g] += np.cumsum(np.where(hot, 0.9 * INTERVAL * 1e9, 0.0))
    if day == D2 and host == XID_GPU[0]:
        g, gone = XID_GPU[1], sec >= 3 * 3600
        xid[gone, g] = 79
        for field in (activity, clock, power, temp, reasons, thermal_counter, ecc):
            field[gone, g] = np.nan  # off the bus: DCGM reads nothing else
    pcie = None
    if host in ("a-node-06", "a-node-07"):
        pcie = np.where(busy, 3 * GB, 0.0)
        if day == D1:
            pcie[(sec >= 4 * 3600) & (sec < 4 * 3600 + 1800), :] = 24 * GB
    if host == LAB and day == D2:  # replay the drill: what the exporter scraped after each injection
        for gpu, field_id, value, at, held, _ in DRILL:
            after = sec >= at
            during = after & (sec <= at + held)
            if field_id == 230:
                xid[after, gpu] = float(value)  # the XID gauge holds the last error
            elif field_id == 311:
                ecc[after, gpu] += float(value)  # a counter
            elif field_id == 150:
                temp[during, gpu] = float(value)
            elif field_id == 112:
                reasons[during, gpu] = float(value)
    values = {
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE": activity,
        "DCGM_FI_DEV_GPU_UTIL": np.where(np.isnan(activity), np.nan, np.rint(activity * 100)),
        "DCGM_FI_DEV_SM_CLOCK": clock,
        "DCGM_FI_DEV_POWER_USAGE": power,
        "DCGM_FI_DEV_GPU_TEMP": temp,
        "DCGM_FI_DEV_CLOCKS_EVENT_REASONS": reasons,
        "DCGM_FI_DEV_THERMAL_VIOLATION": thermal_counter,
        "DCGM_FI_DEV_XID_ERRORS": xid,
        "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL": ecc,
    }
    if pcie is not None:
        values["DCGM_FI_PROF_PCIE_RX_BYTES"] = pcie
    return ts, job, values


def _range_json(result: list[dict]) -> bytes:
    body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return gzip.compress(json.dumps(body, separators=(",", ":")).encode(), mtime=0)


def dcgm_range_json(host: str, day: str) -> bytes:
    """The host-day as Prometheus's `/api/v1/query_range` answer, one series per label set."""
    ts, job, values = gpu_series(host, day)
    result = []
    for metric, grid in values.items():
        for g in range(8):
            base = {"__name__": metric, "gpu": str(g), "UUID": f"GPU-{host}-{g:02d}", "modelName": MODEL,
                    "Hostname": host, "instance": f"{host}:9400", "job": "dcgm-exporter"}
            groups: dict[str | None, list] = {}
            for i, t in enumerate(ts):
                if np.isnan(grid[i, g]):
                    continue
                groups.setdefault(job[i][g], []).append([int(t), f"{grid[i, g]:.6f}"])
            for jid, pairs in groups.items():
                result.append({"metric": {**base, **({"hpc_job": jid} if jid else {})}, "values": pairs})
    return _range_json(result)


def io_rates(host: str, day: str) -> dict[tuple[str, str], np.ndarray]:
    """Read rates (bytes/s) of each node_exporter series, per 15-s interval starting at each sample."""
    sec = np.arange(0, HOURS * 3600, NODE_EXPORTER_INTERVAL)
    hour = sec // 3600
    first_day = day == D1

    def phased(busy: float, input_bound: float, idle: float) -> np.ndarray:
        rate = np.full(len(sec), busy)
        if first_day:
            rate[hour == 1] = input_bound
            rate[hour == 2] = idle
        return rate

    if host == DISK_HOST:
        return {
            ("node_disk_read_bytes_total", "nvme0n1"): phased(0.3 * GB, 2.0 * GB, 1e5),
            # device-mapper on top of nvme0n1 (counted twice if read) and a loop device: left out
            ("node_disk_read_bytes_total", "dm-0"): phased(0.3 * GB, 2.0 * GB, 1e5),
            ("node_disk_read_bytes_total", "loop0"): np.full(len(sec), 5 * GB),
        }
    return {
        ("node_network_receive_bytes_total", "ens1f0"): phased(0.2 * GB, 1.2 * GB, 5e4),
        ("node_network_receive_bytes_total", "lo"): np.full(len(sec), 8 * GB),
        ("node_mountstats_nfs_total_read_bytes_total", "nfs-server:/datasets"): phased(0.15 * GB, 1.1 * GB, 0.0),
    }


def node_exporter_range_json(host: str, day: str) -> bytes:
    """node_exporter counters of the host-day: each counter advances by rate x 15 s per sample. The
    disk host's series carry only `instance` (an address): its name comes from the file. The NFS
    mount is remounted at 04:30 (its counters restart from zero)."""
    start = _day_start(day)
    result = []
    for (metric, device), rate in io_rates(host, day).items():
        counter = np.concatenate([[1e12], 1e12 + np.cumsum(rate * NODE_EXPORTER_INTERVAL)])[: len(rate)]
        if metric.startswith("node_mountstats"):
            remount = (4 * 3600 + 1800) // NODE_EXPORTER_INTERVAL  # 04:30
            counter[remount:] = counter[remount:] - counter[remount] + rate[remount - 1] * NODE_EXPORTER_INTERVAL
        labels = {"__name__": metric, "instance": "10.0.0.10:9100" if host == DISK_HOST else f"{host}:9100",
                  "job": "node"}
        if host != DISK_HOST:
            labels["nodename"] = host
        if metric.startswith("node_mountstats"):
            labels |= {"export": device, "mountaddr": "10.0.9.1", "protocol": "tcp"}
        else:
            labels["device"] = device
        pairs = [[start + i * NODE_EXPORTER_INTERVAL, f"{v:.1f}"] for i, v in enumerate(counter)]
        result.append({"metric": labels, "values": pairs})
    return _range_json(result)


def drill_csv() -> str:
    rows = ["drill_id,injected_at,hostname,gpu_index,field_id,value,duration_seconds,fault_class,note"]
    for gpu, field_id, value, at, held, fault_class in DRILL:
        moment = datetime.fromtimestamp(_day_start(D2) + at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"{DRILL_ID},{moment},{LAB},{gpu},{field_id},{value},{held},{fault_class},"
                    f"dcgmi test --inject --gpuid {gpu} -f {field_id} -v {value}")
    return "\n".join(rows) + "\n"


def write_fleet(exports: Path, assets: Path) -> None:
    """The user's exports (telemetry only) and their own declarations (the GPU price)."""
    telemetry = exports / "telemetry"
    inventory = telemetry / "inventory"
    inventory.mkdir(parents=True)
    rows = ["hostname,cluster,provider,gpu_model,gpu_count,rack,tor_switch,nvlink_domain"]
    rows += [f"{h},{CLUSTER},onprem,{MODEL},8,{RACK[h]},{LEAF[h]},{NVLINK[h]}" for h in HOSTS]
    rows += [f"{h},{B_CLUSTER},onprem,{MODEL},8,,," for h in B_HOSTS]
    rows.append(f"{LAB},{LAB_CLUSTER},onprem,{MODEL},8,,,")
    (inventory / "nodes.csv").write_text("\n".join(rows) + "\n")
    for day, lines in SACCT.items():
        path = telemetry / "slurm" / CLUSTER / f"{day}.sacct.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([SACCT_FIELDS, *lines]) + "\n")
    path = telemetry / "slurm" / B_CLUSTER / f"{D1}.sacct.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([SACCT_FIELDS, _job("7101", "bench", "infra", 16, 2, "b-node-[00-01]",
                                                   "2026-11-02T00:00:00", "2026-11-02T00:00:00",
                                                   "2026-11-02T01:00:00")]) + "\n")
    for day in DAYS:
        for host, cluster in [*((h, CLUSTER) for h in HOSTS), (LAB, LAB_CLUSTER)]:
            if host == LAB and day == D1:
                continue
            path = telemetry / "prometheus" / cluster / day / f"{host}.json.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(dcgm_range_json(host, day))
        for host in (DISK_HOST, NETWORK_HOST):
            path = telemetry / "node_exporter" / CLUSTER / day / f"{host}.json.gz"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(node_exporter_range_json(host, day))
    drills = telemetry / "drills"
    drills.mkdir(parents=True)
    (drills / f"{DRILL_ID}.csv").write_text(drill_csv())
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "gpu_pricing.yaml").write_text(
        f"currency: USD\nclusters:\n  - cluster: {CLUSTER}\n    price_per_gpu_hour: \"{PRICE}\"\n"
        "    effective_from: 2026-01-01\n"
    )
