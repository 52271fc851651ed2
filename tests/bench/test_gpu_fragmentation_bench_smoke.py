"""The placement / stranded-GPU benchmark runs end to end on a small generated cluster and reports
each model's rows and time (behaviour, not speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

HARNESS = Path(__file__).parents[2] / "bench" / "gpu_fragmentation.py"


def test_gpu_fragmentation_bench_reports_every_model(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(HARNESS), "--nodes", "20", "--days", "1", "--work", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    for model in ("int_gpu_node_occupancy_intervals", "fct_gpu_job_placement", "fct_gpu_fragmentation_daily"):
        [row] = [line for line in lines if line.startswith(f"| {model} |")]
        rows = int(row.split("|")[2].strip().replace(",", ""))
        assert rows > 0, row
    assert "waited" in lines[0] and "floor:" in lines[1]
