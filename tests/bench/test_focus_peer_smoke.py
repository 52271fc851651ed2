"""The peer benchmark (bench/focus_peer.py) runs at smoke scale: the resampled legacy CUR is a
valid legacy CUR that Atlas lands and builds with no row lost and money exact, and every stage is
timed with its ratios (behaviour, not speed; focus-converter itself is left out: it needs its own
environment, built from PyPI)."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.bench

BENCH = Path(__file__).parents[2] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_resampled_legacy_cur_varies_what_differs_between_line_items(tmp_path):
    sample = _load("legacy_cur_sample")
    path = sample.write_legacy_cur(tmp_path / "cur.csv", 3_000)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3_000
    assert len({r["identity/LineItemId"] for r in rows}) == 3_000
    # Every line item starts and ends inside November 2023 (end exclusive), spread over the month.
    assert all("2023-11-01" <= r["lineItem/UsageStartDate"][:10] <= "2023-11-30" for r in rows)
    assert all(r["lineItem/UsageEndDate"] <= "2023-12-01T00:00:00Z" for r in rows)
    assert len({r["lineItem/UsageStartDate"][:10] for r in rows}) > 20
    assert {r[k] for r in rows for k in sample.TAGS} >= {"ml-research", "prod", ""}
    # Amounts stay exact decimal text, and the same seed writes the same file.
    assert all(Decimal(r["lineItem/UnblendedCost"]) == Decimal(r["lineItem/UnblendedCost"]) for r in rows)
    again = sample.write_legacy_cur(tmp_path / "again.csv", 3_000)
    assert again.read_bytes() == path.read_bytes()


def test_peer_benchmark_times_every_stage_and_keeps_every_row_and_cent(tmp_path, capsys):
    bench = _load("focus_peer")
    work = tmp_path / "peer"
    assert bench.main(["--rows", "smoke", "--rounds", "1", "--no-peer", "--work", str(work)]) == 0
    result = json.loads((work / "focus_peer.json").read_text())
    assert result["peer"] == "skipped (--no-peer)"
    assert set(result["stages"]) == {"floor", "copy", "plain", "landing", "build", "end_to_end"}
    for stage in result["stages"].values():
        assert stage["seconds"] > 0 and stage["cpu_seconds"] > 0 and stage["peak_mib"] > 0
    e2e = result["stages"]["end_to_end"]
    assert e2e["seconds"] == result["stages"]["landing"]["seconds"] + result["stages"]["build"]["seconds"]
    assert 0 < result["stages"]["build"]["inside_seconds"] < result["stages"]["build"]["seconds"]
    ratios = result["ratios"]
    assert ratios["end_to_end_x_plain"] == e2e["seconds"] / result["stages"]["plain"]["seconds"]
    assert ratios["x_floor"]["floor"] == 1
    assert ratios["landing_x_text_copy"] == result["stages"]["landing"]["seconds"] / result["stages"]["copy"]["seconds"]
    printed = capsys.readouterr().out
    assert "end to end / plain conversion" in printed and "landing / DuckDB's text copy" in printed
    assert not (work / "copy.parquet").exists()  # the copy's output is not left behind

    # Every line item reaches FOCUS, and Σ BilledCost equals the CSV's amounts summed exactly.
    csv_path = next((work / "input").glob("*.csv"))
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = sum(Decimal(r["lineItem/UnblendedCost"]) for r in rows)
    with duckdb.connect(str(work / "atlas-home" / "warehouse.duckdb"), read_only=True) as con:
        landed, billed = con.execute(
            "select count(distinct x_source_row), sum(\"BilledCost\") from main.focus_cost_and_usage"
        ).fetchone()
    assert landed == len(rows) == result["rows"]
    assert result["focus_rows"] >= len(rows)
    assert billed == expected
