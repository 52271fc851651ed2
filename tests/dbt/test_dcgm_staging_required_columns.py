"""dcgm-exporter staging: every reading must name its metric, host, GPU, value and time. The
required columns are checked in one scan of the delivered text (tests/generic/not_null_columns.sql),
and a reading missing one (here: no `Hostname` label) fails that check with the row shown."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.dbt

GOOD = 'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-a",Hostname="n1"} 87 1785542400000'
NO_HOST = 'DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-b"} 12 1785542400000'


def _build(dbt, tmp_path: Path, lines: list[str]):
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw")
    con.execute("create table raw.dcgm_samples (line varchar, x_source_file varchar, x_period varchar)")
    con.executemany("insert into raw.dcgm_samples values (?, 'n.prom.gz', '2026-08-01')", [[line] for line in lines])
    con.close()
    return dbt(warehouse, tmp_path, "build", "--select", "stg_dcgm__gpu_samples", "--exclude-resource-type", "unit_test")


def _outcomes(tmp_path: Path) -> dict[str, tuple[str, int]]:
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2]: (r["status"], r.get("failures") or 0) for r in results}


def test_complete_readings_pass_the_required_columns_check(tmp_path: Path, dbt) -> None:
    result = _build(dbt, tmp_path, ["# TYPE DCGM_FI_DEV_GPU_UTIL gauge", GOOD])
    assert result.returncode == 0, result.stdout[-3000:]
    assert _outcomes(tmp_path)["not_null_stg_dcgm__gpu_samples_required_columns"] == ("pass", 0)


def test_a_reading_without_a_host_fails_it(tmp_path: Path, dbt) -> None:
    result = _build(dbt, tmp_path, [GOOD, NO_HOST])
    assert result.returncode != 0
    assert _outcomes(tmp_path)["not_null_stg_dcgm__gpu_samples_required_columns"] == ("fail", 1)
