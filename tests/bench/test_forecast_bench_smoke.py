"""The forecast benchmark runs end to end on a few short series and reports time and memory
(behaviour, not speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

HARNESS = Path(__file__).parents[2] / "bench" / "forecast.py"


def test_forecast_bench_reports_time_memory_and_backtest(tmp_path: Path):
    env = {**os.environ, "ATLAS_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(HARNESS), "--series", "3", "--days", "120"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "bench" / "forecast.json").read_text())
    assert result["series"] == 3 and result["refused"] == 0
    assert result["forecast_rows"] == 3 * result["horizon_days"]
    assert result["wall_seconds"] > 0 and result["peak_memory_mib_main"] > 0
    assert sum(result["models_chosen"].values()) == 3
    assert 0 <= result["mean_coverage_80_chosen"] <= result["mean_coverage_95_chosen"] <= 1
    assert "wall_seconds" in done.stdout
