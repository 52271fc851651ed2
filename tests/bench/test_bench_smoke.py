"""The benchmark harness runs end to end at smoke scale and reports every stage (behaviour, not time)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

HARNESS = Path(__file__).parents[2] / "bench" / "billing_pipeline.py"


def test_harness_reports_every_stage_with_rows_time_memory_and_floor_ratio(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("billing_pipeline", HARNESS)
    harness = importlib.util.module_from_spec(spec)
    sys.modules["billing_pipeline"] = harness  # dataclasses look their module up while the class is built
    spec.loader.exec_module(harness)

    assert harness.main(["--scale", "smoke", "--home", str(tmp_path / "bench-home")]) == 0
    result = json.loads((tmp_path / "bench-home" / "bench" / "latest.json").read_text())
    assert [s["name"] for s in result["stages"]] == ["landing", "staging + intermediate", "FOCUS mart", "daily mart"]
    assert result["floor"]["rows"] > 0 and result["floor"]["seconds"] > 0
    for stage in result["stages"]:
        assert stage["rows"] > 0 and stage["seconds"] > 0 and stage["peak_mib"] > 0
        assert stage["x_floor"] == stage["seconds"] / result["floor"]["seconds"]
    # The FOCUS mart holds at least one row per raw line item (commitment fees split into two rows).
    focus = next(s for s in result["stages"] if s["name"] == "FOCUS mart")
    assert focus["rows"] >= result["stages"][0]["rows"] // 2
    assert "FOCUS mart" in capsys.readouterr().out
