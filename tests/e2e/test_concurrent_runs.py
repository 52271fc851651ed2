"""Two `atlas run` at once on one ATLAS_HOME, as two real processes (issue 15, concurrent runs):
one is refused with a sentence naming the other, the other finishes, and nothing is corrupt — the
published snapshot reads, and holds what the finished run built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def _atlas(*args: str) -> list[str]:
    return [sys.executable, "-m", "atlas_pipeline.cli", *args]


def test_two_atlas_runs_at_once_one_refuses_and_nothing_corrupts(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "ATLAS_HOME": str(home), "ATLAS_EXPORTS": str(home / "exports"),
           "DAGSTER_HOME": str(home / "dagster")}
    for key in ("ATLAS_WAREHOUSE", "ATLAS_ASSETS"):
        env.pop(key, None)
    small = ["--months", "1", "--line-items-per-month", "300", "--telemetry-interval-seconds", "3600"]
    subprocess.run(_atlas("generate", *small), env=env, check=True, capture_output=True, timeout=300)

    first = subprocess.Popen(_atlas("run"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lock = home / "run.lock"
    deadline = time.monotonic() + 300
    while not (lock.exists() and lock.read_text().strip()):  # the first run's refresh has started
        assert first.poll() is None, first.stdout.read()
        assert time.monotonic() < deadline, "the first run never took the run lock"
        time.sleep(0.5)
    holder = json.loads(lock.read_text())
    second = subprocess.run(_atlas("run"), env=env, capture_output=True, text=True, timeout=900)
    first_out, _ = first.communicate(timeout=1200)

    # Whichever met the other's lock was refused (normally the second; it may slip in between two
    # of the first's jobs, and then the first is refused at its next job): never both, never neither.
    outcomes = {"first": (first.returncode, first_out), "second": (second.returncode, second.stdout + second.stderr)}
    refused = [name for name, (code, out) in outcomes.items() if code != 0]
    assert len(refused) == 1, outcomes
    code, out = outcomes[refused[0]]
    assert "RunInProgress: not started:" in out and "Runs go one at a time" in out, out[-3000:]
    assert "Traceback" not in out
    assert "Nothing was published" in out
    if refused == ["second"]:
        assert f"(process {holder['pid']}, since" in out

    # Nothing corrupt: the snapshot reads, and holds what the live warehouse holds.
    query = "select count(*) as n, sum(BilledCost) as billed from focus_cost_and_usage"
    published = subprocess.run(_atlas("sql", query, "--format", "json", "--exact"), env=env, capture_output=True, text=True,
                               timeout=120)
    assert published.returncode == 0, published.stderr
    import duckdb

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        live_n, live_billed = con.execute(query).fetchone()
    [row] = json.loads(published.stdout)
    assert (row["n"], row["billed"]) == (live_n, str(live_billed)) and live_n > 0
    assert lock.read_text() == ""  # released
