"""The benchmark harness runs end to end at smoke scale and reports every stage (behaviour, not time)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.bench

HARNESS = Path(__file__).parents[2] / "bench" / "billing_pipeline.py"


def test_harness_reports_every_stage_with_rows_time_memory_and_floor_ratio(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("billing_pipeline", HARNESS)
    harness = importlib.util.module_from_spec(spec)
    sys.modules["billing_pipeline"] = harness  # dataclasses look their module up while the class is built
    spec.loader.exec_module(harness)

    assert harness.main(["--scale", "smoke", "--months", "2", "--home", str(tmp_path / "bench-home")]) == 0
    result = json.loads((tmp_path / "bench-home" / "bench" / "latest.json").read_text())
    assert [s["name"] for s in result["stages"]] == [
        "landing",
        "staging + intermediate",
        "rename-and-cast (reference)",
        "FOCUS mart",
        "daily mart",
    ]
    assert result["floor"]["rows"] > 0 and result["floor"]["seconds"] > 0
    for stage in result["stages"]:
        assert stage["rows"] > 0 and stage["seconds"] > 0 and stage["peak_mib"] > 0
        assert stage["x_floor"] == stage["seconds"] / result["floor"]["seconds"]
    # The FOCUS mart holds at least one row per raw line item (commitment fees split into two rows).
    focus = next(s for s in result["stages"] if s["name"] == "FOCUS mart")
    assert focus["rows"] >= result["stages"][0]["rows"] // 2
    assert result["focus_mart_x_rename_and_cast"] > 0 and result["definitions_load_seconds"] > 0
    assert "FOCUS mart" in capsys.readouterr().out
    # DuckDB's build beside the floor, in wall, in-dbt and CPU time (`--engine spark` adds Spark's:
    # not run here, a Spark start costs more than this whole test).
    assert result["engine"] == "duckdb" and "spark_build" not in result
    build = result["duckdb_build"]
    dbt_stages = ("staging + intermediate", "FOCUS mart", "daily mart")
    assert build["build_seconds"] == pytest.approx(sum(s["seconds"] for s in result["stages"] if s["name"] in dbt_stages))
    assert 0 < build["model_seconds"] < build["build_seconds"]
    assert build["build_cpu_seconds"] > 0 and result["floor"]["cpu_seconds"] > 0 and result["landing_cpu_seconds"] > 0

    # With two months the harness re-delivers the second and times the incremental daily run: the
    # FOCUS mart then holds both months once, with only the second rebuilt.
    assert [s["name"] for s in result["daily_run"]] == ["daily run: landing", "daily run: FOCUS + daily marts"]
    assert set(result["daily_run_model_seconds"]) == {"focus_cost_and_usage", "fct_cost_daily"}
    assert result["daily_run_fraction_of_full_build"] > 0
    with duckdb.connect(str(tmp_path / "bench-home" / "warehouse.duckdb"), read_only=True) as con:
        loaded = dict(
            con.execute("select x_billing_period, min(x_loaded_at) from main.focus_cost_and_usage group by 1").fetchall()
        )
        versions = con.execute(
            "select x_source, x_billing_period, count(distinct x_export_version) from main.focus_cost_and_usage group by all"
        ).fetchall()
    assert sorted(loaded) == ["2026-08", "2026-09"] and loaded["2026-09"] > loaded["2026-08"]
    assert versions and all(n == 1 for _, _, n in versions)  # the re-delivered month replaced, never added
