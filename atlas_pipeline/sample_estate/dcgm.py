"""NVIDIA dcgm-exporter scrapes saved as Prometheus text exposition, one gzip file per host per day.

For each scrape timestamp a file holds, per metric, the `# HELP` and `# TYPE` lines and one sample
per GPU with an explicit millisecond timestamp. Labels follow dcgm-exporter (`gpu`, `UUID`,
`pci_bus_id`, `device`, `modelName`, `Hostname`), plus `hpc_job` while a Slurm job holds the GPU
(dcgm-exporter's HPC job mapping). Values are printed the exporter's way: integer fields with
`%d`, double fields with `%f`. Like older exporter releases, a scrape now and then carries DCGM's
blank sentinel for the profiling field instead of skipping it.

Lines are built with vectorised Arrow string kernels, not per-sample Python formatting: the
default estate is ~2 million sample lines.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from atlas_pipeline.sample_estate.gpu_jobs import SlurmJob, gpu_uuid, stable_int
from atlas_pipeline.sample_estate.spec import GpuHost

# DCGM's "no value" sentinel for double fields (DCGM_FP64_BLANK), printed with %f.
FP64_BLANK_TEXT = "140737488355328.000000"


@dataclass(frozen=True)
class Metric:
    name: str
    help: str
    kind: str  # "int" (%d) or "double" (%f)


# In dcgm-exporter's counter-file order (default-counters.csv / dcp-metrics-included.csv).
METRICS: tuple[Metric, ...] = (
    Metric("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", "int"),
    Metric("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", "double"),
    Metric("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", "int"),
    Metric("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", "int"),
    Metric("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "Ratio of time the graphics engine is active.", "double"),
    Metric("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "Ratio of cycles the tensor (HMMA) pipe is active.", "double"),
    Metric("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).", "int"),
    Metric("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "Current clock throttle reasons (bitmask).", "int"),
    Metric("DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered.", "int"),
)

# NVML clock event (throttle) reason bits, as DCGM_FI_DEV_CLOCK_THROTTLE_REASONS reports them.
THROTTLE_GPU_IDLE = 0x1
THROTTLE_SW_POWER_CAP = 0x4
THROTTLE_SW_THERMAL = 0x20
THROTTLE_HW_THERMAL = 0x40

# PCI bus ids of the 8 SXM GPUs of an HGX H100 board, in GPU index order.
_PCI_BUSES = ("18", "2A", "3A", "5D", "9A", "AB", "BA", "DB")


def pci_bus_id(gpu_index: int) -> str:
    """The PCI bus id dcgm-exporter labels GPU `gpu_index` with on the generated hosts."""
    bus = _PCI_BUSES[gpu_index] if gpu_index < len(_PCI_BUSES) else f"{0xE0 + gpu_index:02X}"
    return f"00000000:{bus}:00.0"


def max_sm_clock_mhz(gpu_model: str) -> int:
    """Boost SM clock of a GPU model (H100/H200 SXM 1980 MHz, A100 1410 MHz, B200 1965 MHz)."""
    upper = gpu_model.upper()
    return 1980 if ("H100" in upper or "H200" in upper) else 1965 if "B200" in upper else 1410


def _board(gpu_model: str) -> tuple[float, float, int]:
    """(idle W, max W, framebuffer MiB) of a GPU model."""
    upper = gpu_model.upper()
    max_w = 700.0 if ("H100" in upper or "H200" in upper) else 1000.0 if "B200" in upper else 400.0
    gb = re.search(r"(\d+)\s*GB", upper)
    fb = {80: 81_559, 40: 40_960, 141: 143_771}.get(int(gb.group(1)), int(gb.group(1)) * 1024) if gb else 81_559
    return (70.0 if max_w >= 700 else 50.0), max_w, fb


@dataclass(frozen=True)
class HostSchedule:
    """Per GPU of one host: the (start, end, job row) of the jobs that held it, sorted by start."""

    starts: list[np.ndarray]
    ends: list[np.ndarray]
    job_rows: list[np.ndarray]
    job_ids: np.ndarray
    activity: np.ndarray
    memory_fraction: np.ndarray


def host_schedule(host: GpuHost, jobs: list[SlurmJob]) -> HostSchedule:
    own = [j for j in jobs if j.hostname == host.hostname and j.start is not None]
    starts, ends, rows = [], [], []
    for gpu in range(host.gpu_count):
        held = sorted((j.start, j.end, i) for i, j in enumerate(own) if gpu in j.gpu_indices)
        starts.append(np.array([h[0] for h in held], dtype=np.int64))
        ends.append(np.array([h[1] for h in held], dtype=np.int64))
        rows.append(np.array([h[2] for h in held], dtype=np.int64))
    return HostSchedule(
        starts=starts,
        ends=ends,
        job_rows=rows,
        job_ids=np.array([j.job_id for j in own], dtype=np.int64),
        activity=np.array([j.activity for j in own], dtype=float),
        memory_fraction=np.array([j.memory_fraction for j in own], dtype=float),
    )


def holding_job(schedule: HostSchedule, timestamps: np.ndarray) -> np.ndarray:
    """Row (into the schedule's job arrays) of the job holding each GPU at each time; -1 if idle.

    Shape (len(timestamps), gpu_count). A job holds its GPUs for start <= t < end.
    """
    out = np.full((len(timestamps), len(schedule.starts)), -1, dtype=np.int64)
    for gpu, (starts, ends, rows) in enumerate(zip(schedule.starts, schedule.ends, schedule.job_rows, strict=True)):
        if len(starts) == 0:
            continue
        k = np.searchsorted(starts, timestamps, side="right") - 1
        valid = k >= 0
        kk = np.where(valid, k, 0)
        held = valid & (timestamps < ends[kk])
        out[:, gpu] = np.where(held, rows[kk], -1)
    return out


def _fixed6(values: np.ndarray) -> pa.Array:
    """Non-negative doubles as Go's `%f` prints them (six decimals), vectorised."""
    micro = np.rint(values * 1e6).astype(np.int64)
    whole = pa.array(micro // 1_000_000).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(micro % 1_000_000).cast(pa.string()), width=6, padding="0")
    return pc.binary_join_element_wise(whole, frac, ".")


@cache
def _line_order(n_times: int, n_metrics: int, n_gpus: int) -> np.ndarray:
    """Take-indices that interleave header lines with samples: per time, per metric, HELP, TYPE, GPUs.

    Samples come first in the source array, in (time, metric, gpu) order; the 2 * n_metrics header
    lines follow them.
    """
    n_samples = n_times * n_metrics * n_gpus
    t = np.arange(n_times)[:, None, None]
    m = np.arange(n_metrics)[None, :, None]
    g = np.arange(n_gpus + 2)[None, None, :]
    sample_index = (t * n_metrics + m) * n_gpus + (g - 2)
    header_index = n_samples + 2 * m + g
    return np.where(g < 2, header_index, sample_index).reshape(-1)


@dataclass(frozen=True)
class HostDay:
    """One host-day of simulated readings, each array shaped (scrapes, GPUs)."""

    timestamps: np.ndarray  # epoch seconds, one per scrape
    busy: np.ndarray  # a job holds the GPU
    job_ids: np.ndarray  # Slurm job id while busy (else 0)
    job_rows: np.ndarray  # row into the schedule's job arrays while busy (else -1)
    util: np.ndarray  # DCGM_FI_DEV_GPU_UTIL, %
    activity: np.ndarray  # DCGM_FI_PROF_GR_ENGINE_ACTIVE, 0..1
    tensor: np.ndarray  # DCGM_FI_PROF_PIPE_TENSOR_ACTIVE, 0..1
    fb_used: np.ndarray  # MiB
    fb_total: int
    power: np.ndarray  # W
    temp: np.ndarray  # C
    sm_clock: np.ndarray  # MHz
    throttle: np.ndarray  # clock event reason bitmask
    xid: np.ndarray  # the XID gauge: the last XID raised (held from the error on), 0 if none
    blank_profiling: np.ndarray  # the profiling field came back as DCGM_FP64_BLANK


def simulate_host_day(
    host: GpuHost, seed: int, schedule: HostSchedule, day_start: int, interval_seconds: int,
    faults: tuple = (),
) -> HostDay:
    """Readings of every GPU of `host` at every scrape of the day, with `faults` injected."""
    timestamps = np.arange(day_start, day_start + 86_400, interval_seconds, dtype=np.int64)
    n_t, n_g = len(timestamps), host.gpu_count
    rng = np.random.default_rng([seed, stable_int("dcgm", host.hostname), day_start // 86_400])

    rows = holding_job(schedule, timestamps)  # (T, G)
    busy = rows >= 0
    safe = np.where(busy, rows, 0)
    idle_w, max_w, fb_total = _board(host.gpu_model)
    max_clock = max_sm_clock_mhz(host.gpu_model)

    # The work a job does wanders around its mean; idle GPUs do nothing.
    mean_activity = schedule.activity[safe] if len(schedule.activity) else np.zeros_like(safe, dtype=float)
    activity = np.where(busy, np.clip(mean_activity + rng.normal(0.0, 0.06, (n_t, n_g)), 0.0, 1.0), 0.0)
    util_noise = rng.normal(0, 3, (n_t, n_g))
    mem_fraction = schedule.memory_fraction[safe] if len(schedule.memory_fraction) else activity
    fb_used = np.where(
        busy, np.clip(np.rint(mem_fraction * fb_total + rng.normal(0, 256, (n_t, n_g))), 512, fb_total), 0
    )
    power_noise = rng.normal(0, 8, (n_t, n_g))
    idle_noise = rng.normal(0, 1.5, (n_t, n_g))
    temp_noise = rng.normal(0, 1.0, (n_t, n_g))
    blank_profiling = rng.random((n_t, n_g)) < 0.002
    clock_noise = rng.normal(0, 0.01, (n_t, n_g))
    tensor_share = rng.uniform(0.55, 0.8, (n_t, n_g))

    clock_factor = np.ones((n_t, n_g))
    throttle = np.where(busy, 0, THROTTLE_GPU_IDLE).astype(np.int64)
    xid = np.zeros((n_t, n_g), dtype=np.int64)
    hot = np.zeros((n_t, n_g), dtype=bool)
    power_override = np.full((n_t, n_g), np.nan)
    seconds = timestamps - day_start
    for fault in faults:
        if fault.hostname != host.hostname or fault.gpu_index >= n_g:
            continue
        g = fault.gpu_index
        if fault.kind == "straggler":
            activity[:, g] = np.where(busy[:, g], activity[:, g] * fault.severity, activity[:, g])
            clock_factor[:, g] = np.where(busy[:, g], fault.severity, 1.0)
        elif fault.kind == "thermal_throttle":
            window = (seconds >= fault.start_hour * 3600) & (seconds < (fault.start_hour + fault.hours) * 3600)
            clock_factor[window, g] = fault.severity
            hot[window, g] = True
            throttle[window, g] |= THROTTLE_SW_THERMAL | THROTTLE_HW_THERMAL
        elif fault.kind == "power_step":
            at = int(np.searchsorted(seconds, fault.start_hour * 3600))
            if 2 <= at < n_t:
                # a board cannot draw more than its power limit: severity is the share of TDP reached
                power_override[at - 2 : at, :] = idle_w
                power_override[at, :] = min(fault.severity, 1.0) * max_w
        elif fault.kind == "xid":
            at = int(np.searchsorted(seconds, fault.start_hour * 3600))
            if at < n_t:
                # DCGM_FI_DEV_XID_ERRORS is a gauge holding the last XID until the next one
                xid[at:, g] = fault.code

    util = np.where(busy, np.clip(np.rint(activity * 105 + 3 + util_noise), 0, 100), 0)
    power = np.where(
        busy,
        idle_w + (max_w - idle_w) * (0.12 + 0.85 * activity) + power_noise,
        idle_w + idle_noise,
    )
    power = np.clip(power, idle_w * 0.8, max_w)
    power = np.where(np.isnan(power_override), power, power_override)
    # The power cap engages only when the board sits at its limit.
    throttle = np.where(busy & (power >= max_w), throttle | THROTTLE_SW_POWER_CAP, throttle)
    temp = np.rint(29 + 46 * (np.minimum(power, max_w) - idle_w) / (max_w - idle_w) + temp_noise)
    temp = np.where(hot, 92 + np.abs(temp_noise), temp)
    sm_clock = np.where(
        busy, np.rint(max_clock * np.clip(clock_factor * (0.97 + clock_noise), 0.1, 1.0)), 345
    )
    sm_clock = np.where(~busy & hot, np.rint(max_clock * clock_factor), sm_clock)
    tensor = np.where(busy, activity * tensor_share, 0.0)
    job_ids = schedule.job_ids[safe] if len(schedule.job_ids) else np.zeros_like(safe)
    return HostDay(
        timestamps=timestamps, busy=busy, job_ids=np.where(busy, job_ids, 0), job_rows=rows, util=util,
        activity=activity, tensor=tensor, fb_used=fb_used, fb_total=fb_total, power=power, temp=temp,
        sm_clock=sm_clock, throttle=throttle, xid=xid, blank_profiling=blank_profiling,
    )


def render_host_day(
    host: GpuHost, seed: int, schedule: HostSchedule, day_start: int, interval_seconds: int,
    faults: tuple = (),
) -> bytes:
    """One host-day of exposition text (uncompressed bytes)."""
    day = simulate_host_day(host, seed, schedule, day_start, interval_seconds, faults)
    timestamps = day.timestamps
    n_t, n_g, n_m = len(timestamps), host.gpu_count, len(METRICS)
    busy = day.busy
    temp, power, util, fb_used, activity = day.temp, day.power, day.util, day.fb_used, day.activity
    blank_profiling = day.blank_profiling

    # Value text per (time, metric, gpu).
    by_metric = {
        "DCGM_FI_DEV_GPU_TEMP": pa.array(temp.astype(np.int64).reshape(-1)).cast(pa.string()),
        "DCGM_FI_DEV_POWER_USAGE": _fixed6(power.reshape(-1)),
        "DCGM_FI_DEV_GPU_UTIL": pa.array(util.astype(np.int64).reshape(-1)).cast(pa.string()),
        "DCGM_FI_DEV_FB_USED": pa.array(fb_used.astype(np.int64).reshape(-1)).cast(pa.string()),
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE": pc.if_else(
            pa.array(blank_profiling.reshape(-1)), FP64_BLANK_TEXT, _fixed6(activity.reshape(-1))
        ),
        "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": _fixed6(day.tensor.reshape(-1)),
        "DCGM_FI_DEV_SM_CLOCK": pa.array(day.sm_clock.astype(np.int64).reshape(-1)).cast(pa.string()),
        "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS": pa.array(day.throttle.reshape(-1)).cast(pa.string()),
        "DCGM_FI_DEV_XID_ERRORS": pa.array(day.xid.reshape(-1)).cast(pa.string()),
    }
    # (T*G) per metric -> (T, M, G) flattened: take per metric, then interleave.
    tg = n_t * n_g
    value_index = (np.arange(n_m)[None, :, None] * tg + (np.arange(n_t)[:, None, None] * n_g)
                   + np.arange(n_g)[None, None, :]).reshape(-1)
    values = pa.concat_arrays([by_metric[m.name] for m in METRICS]).take(pa.array(value_index))

    # Label prefix per (metric, gpu) and the job label per (time, gpu).
    prefixes = pa.array(
        [
            f'{metric.name}{{gpu="{g}",UUID="{gpu_uuid(seed, host.hostname, g)}",pci_bus_id="{pci_bus_id(g)}",'
            f'device="nvidia{g}",modelName="{host.gpu_model}",Hostname="{host.hostname}"'
            for metric in METRICS
            for g in range(n_g)
        ]
    )
    mg_index = np.tile(np.arange(n_m * n_g), n_t)
    job_ids = day.job_ids
    job_label = pc.if_else(
        pa.array(busy.reshape(-1)),
        pc.binary_join_element_wise(
            ',hpc_job="', pa.array(job_ids.reshape(-1)).cast(pa.string()), '"}', ""
        ),
        "}",
    )
    tg_index = (np.arange(n_t)[:, None, None] * n_g + np.zeros((1, n_m, 1), dtype=np.int64)
                + np.arange(n_g)[None, None, :]).reshape(-1)
    ts_text = pa.array(timestamps * 1000).cast(pa.string())
    t_index = np.repeat(np.arange(n_t), n_m * n_g)

    samples = pc.binary_join_element_wise(
        prefixes.take(pa.array(mg_index)),
        job_label.take(pa.array(tg_index)),
        " ",
        values,
        " ",
        ts_text.take(pa.array(t_index)),
        "",
    )
    headers = pa.array(
        [line for metric in METRICS for line in (f"# HELP {metric.name} {metric.help}",
                                                  f"# TYPE {metric.name} gauge")]
    )
    lines = pa.concat_arrays([samples, headers]).take(pa.array(_line_order(n_t, n_m, n_g)))
    text = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines), "\n")
    return (text[0].as_py() + "\n").encode()


def compress(data: bytes) -> bytes:
    """gzip with a zero mtime and no file name, so equal input gives equal bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)
