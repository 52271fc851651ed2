"""`nvidia-smi --query-gpu=... --format=csv -l <interval>` logs, one file per host per day.

As nvidia-smi prints them: a header whose fields carry their unit in brackets
(`utilization.gpu [%]`, `power.draw [W]`), values with units (`87 %`, `512.25 W`, `1980 MHz`),
`, ` between fields, clock event reasons as a bitmask and as `Active` / `Not Active` flags, and
`[N/A]` where the driver has no value. The host logs in UTC (`TZ=UTC nvidia-smi ...`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from atlas_pipeline.sample_estate.dcgm import (
    THROTTLE_GPU_IDLE,
    THROTTLE_HW_THERMAL,
    THROTTLE_SW_POWER_CAP,
    THROTTLE_SW_THERMAL,
    HostDay,
    max_sm_clock_mhz,
    pci_bus_id,
)
from atlas_pipeline.sample_estate.gpu_jobs import gpu_uuid
from atlas_pipeline.sample_estate.spec import GpuHost

QUERY_FIELDS = (
    "timestamp", "index", "name", "uuid", "pci.bus_id", "utilization.gpu [%]", "utilization.memory [%]",
    "memory.used [MiB]", "memory.total [MiB]", "power.draw [W]", "temperature.gpu", "clocks.current.sm [MHz]",
    "clocks.max.sm [MHz]", "clocks_event_reasons.active", "clocks_event_reasons.gpu_idle",
    "clocks_event_reasons.sw_power_cap", "clocks_event_reasons.hw_slowdown",
    "clocks_event_reasons.sw_thermal_slowdown", "clocks_event_reasons.hw_thermal_slowdown",
    "enforced.power.limit [W]",
)


def _flag(mask: np.ndarray, bit: int) -> np.ndarray:
    return np.where((mask & bit) != 0, "Active", "Not Active")


def render_csv(host: GpuHost, seed: int, host_day: HostDay, tdp_watts: float) -> bytes:
    """The CSV log of one host-day, rows in (time, GPU) order."""
    n_t, n_g = host_day.util.shape
    stamps = np.array(
        [datetime.fromtimestamp(int(t), UTC).strftime("%Y/%m/%d %H:%M:%S.000") for t in host_day.timestamps]
    )
    columns = [
        np.repeat(stamps[:, None], n_g, axis=1),
        np.tile(np.arange(n_g).astype(str), (n_t, 1)),
        np.full((n_t, n_g), host.gpu_model),
        np.tile(np.array([gpu_uuid(seed, host.hostname, g) for g in range(n_g)]), (n_t, 1)),
        np.tile(np.array([pci_bus_id(g) for g in range(n_g)]), (n_t, 1)),
        np.char.add(host_day.util.astype(np.int64).astype(str), " %"),
        # The memory controller's utilization is not simulated: the driver has none to give.
        np.full((n_t, n_g), "[N/A]"),
        np.char.add(host_day.fb_used.astype(np.int64).astype(str), " MiB"),
        np.full((n_t, n_g), f"{host_day.fb_total} MiB"),
        np.char.add(np.char.mod("%.2f", host_day.power), " W"),
        host_day.temp.astype(np.int64).astype(str),
        np.char.add(host_day.sm_clock.astype(np.int64).astype(str), " MHz"),
        np.full((n_t, n_g), f"{max_sm_clock_mhz(host.gpu_model)} MHz"),
        np.char.mod("0x%016X", host_day.throttle),
        _flag(host_day.throttle, THROTTLE_GPU_IDLE),
        _flag(host_day.throttle, THROTTLE_SW_POWER_CAP),
        np.full((n_t, n_g), "Not Active"),
        _flag(host_day.throttle, THROTTLE_SW_THERMAL),
        _flag(host_day.throttle, THROTTLE_HW_THERMAL),
        np.full((n_t, n_g), f"{tdp_watts:.2f} W"),
    ]
    rows = columns[0]
    for column in columns[1:]:
        rows = np.char.add(np.char.add(rows, ", "), column)
    return (", ".join(QUERY_FIELDS) + "\n" + "\n".join(rows.reshape(-1)) + "\n").encode()
