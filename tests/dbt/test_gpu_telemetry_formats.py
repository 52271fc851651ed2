"""Telemetry readers on real tool output: nvidia-smi --query-gpu CSV captured from an H100
(driver 590), an older-driver log with `clocks_throttle_reasons.*`, a Prometheus range-query
export with 1.x-style labels, NaN and DCGM blank sentinels, and real `sacct -P` output (Meta's
gcm test data: `CANCELLED by <uid>`, steps). Files are landed with the real landing code and
staged by the real dbt models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.dbt

FIXTURES = Path(__file__).parents[1] / "fixtures" / "telemetry"

# An nvidia-smi log of an older driver (< 535): `clocks_throttle_reasons.*`, `[N/A]` power (synthetic).
OLD_DRIVER_LOG = FIXTURES / "nvidia_smi_a100_old_driver.csv"

BLANK_FP64 = "140737488355328"


def _range_export() -> dict:
    def series(labels: dict, values: list) -> dict:
        return {"metric": labels, "values": values}

    base = {"gpu": "0", "uuid": "GPU-bbbb", "hostname": "k8s-node-7", "modelName": "NVIDIA H100 80GB HBM3"}
    pod = {**base, "namespace": "ml-platform", "pod": "vllm-serve-7d9f", "container": "vllm"}
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                series({"__name__": "DCGM_FI_DEV_GPU_UTIL", **pod}, [[1785542400, "87"], [1785542415.5, "91"]]),
                series({"__name__": "DCGM_FI_PROF_GR_ENGINE_ACTIVE", **pod},
                       [[1785542400, "0.812"], [1785542415.5, BLANK_FP64]]),
                series({"__name__": "DCGM_FI_DEV_POWER_USAGE", **base, "Hostname": ""}, [[1785542400, "NaN"]]),
            ],
        },
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, land_estate, dbt) -> Path:
    root = tmp_path_factory.mktemp("gpu_formats")
    exports = root / "exports" / "telemetry"
    smi = exports / "nvidia_smi" / "lab" / "2026-07-14"
    smi.mkdir(parents=True)
    shutil.copy(FIXTURES / "nvidia_smi_h100_idle.csv", smi / "h100-idle.csv")
    (exports / "nvidia_smi" / "lab" / "2026-07-15").mkdir()
    shutil.copy(FIXTURES / "nvidia_smi_h100_load.csv", exports / "nvidia_smi" / "lab" / "2026-07-15" / "h100-load.csv")
    shutil.copy(FIXTURES / "nvidia_smi_h100_mig_load.csv", smi / "h100-mig.csv")
    old = exports / "nvidia_smi" / "lab" / "2023-05-02"
    old.mkdir()
    shutil.copy(OLD_DRIVER_LOG, old / "a100-old.csv")
    prom = exports / "prometheus" / "k8s" / "2026-08-01"
    prom.mkdir(parents=True)
    (prom / "k8s-node-7.json").write_text(json.dumps(_range_export()))
    # .json.gz is what the declaration includes
    import gzip

    (prom / "k8s-node-7.json.gz").write_bytes(gzip.compress((prom / "k8s-node-7.json").read_bytes()))
    (prom / "k8s-node-7.json").unlink()
    slurm = exports / "slurm" / "gcm"
    slurm.mkdir(parents=True)
    shutil.copy(FIXTURES / "gcm_sacct_midnight_edge_case.txt", slurm / "2021-04-07.sacct.txt")

    db = root / "warehouse.duckdb"
    land_estate(root / "exports", db, root, {"nvidia_smi_logs", "dcgm_prometheus_exports", "slurm_jobs"})
    # `run`, not `build`: the 4-field sacct file has no Account, which the team contract rejects.
    result = dbt(db, root, "run", "--select", "stg_nvidia_smi__gpu_samples", "stg_prometheus__dcgm_samples",
                 "stg_slurm__jobs")
    assert result.returncode == 0, result.stdout[-5000:]
    return db


def test_nvidia_smi_units_na_and_event_reasons_from_a_real_h100(warehouse: Path, query) -> None:
    rows = query(
        warehouse,
        "select hostname, gpu_index, gpu_model, gpu_util_pct, fb_used_mib, fb_total_mib, power_w, temperature_c, "
        "sm_clock_mhz, max_sm_clock_mhz, throttle_reasons, sample_at from staging.stg_nvidia_smi__gpu_samples "
        "where hostname in ('h100-idle', 'h100-load') order by sample_at",
    )
    assert [r[0] for r in rows] == ["h100-idle", "h100-load"]
    idle, load = rows
    # The real idle capture: 0 %, 0 MiB used of 81559, 69.85 W, 41 C, 345 MHz, reason 0x1 (GPU idle).
    assert idle[1:] == (0, "NVIDIA H100 80GB HBM3", 0, 0, 81559, 69.85, 41, 345, 1980, 1, idle[-1])
    assert str(idle[-1]) == "2026-07-14 08:12:38.696000"
    # Under load: 100 %, 631.95 W, 1980 MHz, no clock event reason active.
    assert (load[3], load[6], load[8], load[10]) == (100, 631.95, 1980, 0)


def test_nvidia_smi_of_a_mig_gpu_has_no_utilization_not_zero(warehouse: Path, query) -> None:
    """A real H100 in MIG mode under load: nvidia-smi prints `utilization.gpu` as `[N/A]` (per-GPU
    utilization does not exist in MIG mode) while it draws 433.78 W: NULL, never 0 % (which would
    read as an idle GPU)."""
    assert query(warehouse, "select gpu_util_pct, fb_used_mib, power_w, temperature_c, sm_clock_mhz "
                            "from staging.stg_nvidia_smi__gpu_samples where hostname = 'h100-mig'") == [
        (None, 11125, 433.78, 53, 1980)]


def test_nvidia_smi_older_driver_throttle_reason_flags(warehouse: Path, query) -> None:
    rows = query(
        warehouse,
        "select gpu_index, gpu_util_pct, power_w, sm_clock_mhz, throttle_reasons from "
        "staging.stg_nvidia_smi__gpu_samples where hostname = 'a100-old' order by gpu_index",
    )
    # GPU 0: bitmask [N/A] -> rebuilt from the flags: SW power cap (0x4) + HW thermal (0x40).
    assert rows[0] == (0, 97, 398.51, 1215, 0x4 | 0x40)
    # GPU 1: `[N/A]` power is NULL, not 0; the bitmask wins over the flags.
    assert rows[1] == (1, 0, None, 210, 1)


def test_prometheus_range_export_labels_sentinels_and_pods(warehouse: Path, query) -> None:
    rows = query(
        warehouse,
        "select metric_name, hostname, gpu_index, gpu_uuid, k8s_namespace, k8s_pod, k8s_container, value, "
        "value_text, sample_at from staging.stg_prometheus__dcgm_samples order by metric_name, sample_at",
    )
    by_metric = {}
    for row in rows:
        by_metric.setdefault(row[0], []).append(row)
    util = by_metric["DCGM_FI_DEV_GPU_UTIL"]
    assert [(r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in util] == [
        ("k8s-node-7", 0, "GPU-bbbb", "ml-platform", "vllm-serve-7d9f", "vllm", 87.0),
        ("k8s-node-7", 0, "GPU-bbbb", "ml-platform", "vllm-serve-7d9f", "vllm", 91.0),
    ]
    assert str(util[1][-1]) == "2026-08-01 00:00:15.500000"
    active = by_metric["DCGM_FI_PROF_GR_ENGINE_ACTIVE"]
    assert [r[7] for r in active] == [0.812, None]  # DCGM_FP64_BLANK -> NULL
    assert active[1][8] == BLANK_FP64
    power = by_metric["DCGM_FI_DEV_POWER_USAGE"]
    # `Hostname=""` is blank: the 1.x `hostname` label is used; NaN -> NULL.
    assert power[0][1] == "k8s-node-7" and power[0][7] is None and power[0][4] is None


def test_real_sacct_output_cancelled_by_uid_and_steps(warehouse: Path, query) -> None:
    rows = query(
        warehouse,
        "select job_id, state, state_raw, cancelled_by_uid, started_at, ended_at, gpu_count, cluster "
        "from staging.stg_slurm__jobs order by job_id",
    )
    # 306 jobs in the file; their 880 step rows (`.batch`, `.extern`, `.0`) are not jobs.
    assert len(rows) == 306
    assert all("." not in r[0] for r in rows)
    cancelled = [r for r in rows if r[1] == "CANCELLED"]
    assert len(cancelled) == 24
    assert {r[3] for r in cancelled} == {1185300516, 1185200358}
    assert all(r[2].startswith("CANCELLED by ") for r in cancelled)
    # A 4-field sacct (JobID|State|Start|End) has no AllocTRES: no GPUs, not an error.
    assert {r[6] for r in rows} == {0} and {r[7] for r in rows} == {"gcm"}


def test_unreadable_prometheus_export_is_quarantined_and_the_rest_lands(tmp_path: Path) -> None:
    import gzip

    import duckdb

    from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
    from atlas_pipeline.lib.ingest.object_store import LocalStore
    from atlas_pipeline.lib.ingest.sources import parse_source
    from atlas_pipeline.lib.settings import DECLARATIONS_DIR

    source = parse_source(DECLARATIONS_DIR / "sources" / "dcgm_prometheus_exports.yaml")
    root = tmp_path / "prometheus"
    good = root / "k8s" / "2026-08-01" / "k8s-node-7.json.gz"
    bad = root / "k8s" / "2026-08-02" / "k8s-node-7.json.gz"
    good.parent.mkdir(parents=True)
    bad.parent.mkdir(parents=True)
    good.write_bytes(gzip.compress(json.dumps(_range_export()).encode()))
    bad.write_bytes(gzip.compress(json.dumps(_range_export()).encode())[:200])  # cut off mid-stream
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    report = land_source(con, source, LocalStore(root), tmp_path / "landing", tmp_path / "quarantine")
    assert [q["file"] for q in report.quarantined] == ["k8s/2026-08-02/k8s-node-7.json.gz"]
    assert "unreadable as prometheus_range_json" in report.quarantined[0]["problem"]
    assert refresh_raw_view(con, source)["periods"] == ["2026-08-01"]
    assert con.execute("select count(*) from raw.dcgm_prometheus_exports").fetchone()[0] == 5
