"""`atlas run` and ATLAS_ENGINE: the run itself always lands and builds on DuckDB (dbt's target comes
from ATLAS_ENGINE in profiles.yml, so the Dagster jobs must not see `spark`); with `spark` the dbt
project is then built on Spark from the landed files, and the terminal says what is not on Spark.

The wiring only: the pipeline and the Spark child are replaced by recorders here (no Spark start:
the suite's one Spark build, tests/e2e/test_spark_engine.py, runs the same `build_in_subprocess`)."""

from __future__ import annotations

import os

import pytest

from atlas_pipeline import cli
from atlas_pipeline.lib.run import pipeline_run
from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse import spark_engine


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict:
    """`atlas run` with the pipeline and the Spark build recorded, not run; an estate already there."""
    # prepare_environment writes these into os.environ: monkeypatch puts them back after the test.
    for name in ("ATLAS_WAREHOUSE", "ATLAS_EXPORTS", "DAGSTER_HOME", "DBT_SEND_ANONYMOUS_USAGE_STATS", "ATLAS_ENGINE"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    monkeypatch.delenv("ATLAS_ENGINE")
    monkeypatch.delenv("ATLAS_EXPORTS")
    monkeypatch.delenv("ATLAS_ASSETS", raising=False)
    paths = AtlasPaths.from_env().ensure()
    (paths.exports / "delivered.csv").write_text("x\n1\n")  # no sample estate generated
    seen: dict = {"spark": [], "pipeline_engine": None, "paths": paths, "spark_result": (True, "Done. PASS=3 ERROR=0")}

    def run_pipeline(paths, options, out, log, atlas_command="atlas"):
        seen["pipeline_engine"] = os.environ.get("ATLAS_ENGINE")
        return seen.get("pipeline_code", 0)

    def build_in_subprocess(warehouse, spark_dir, record=print, dbt_args=spark_engine.SPARK_BUILD_ARGS):
        seen["spark"].append((warehouse, spark_dir, tuple(dbt_args)))
        record("a line of dbt's output")
        return seen["spark_result"]

    monkeypatch.setattr(pipeline_run, "run_pipeline", run_pipeline)
    monkeypatch.setattr(spark_engine, "build_in_subprocess", build_in_subprocess)
    return seen


def test_duckdb_is_the_default_and_spark_is_not_started(recorded, capsys) -> None:
    assert cli.main(["run"]) == 0
    assert recorded["pipeline_engine"] == "duckdb"
    assert recorded["spark"] == []
    assert "Spark" not in capsys.readouterr().out


def test_atlas_engine_spark_runs_the_pipeline_on_duckdb_then_builds_on_spark(recorded, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ATLAS_ENGINE", "spark")
    assert cli.main(["run"]) == 0
    # The Dagster jobs' dbt took the DuckDB target; the Spark build read the warehouse they landed.
    assert recorded["pipeline_engine"] == "duckdb"
    paths = recorded["paths"]
    assert recorded["spark"] == [(paths.warehouse, paths.home / "spark", spark_engine.SPARK_BUILD_ARGS)]
    out = capsys.readouterr().out
    assert "✓ spark" in out and "Done. PASS=3 ERROR=0" in out
    assert str(paths.home / "spark" / "warehouse" / "main.db") in out
    assert "Not on Spark: rpt_* report views" in out and "forecasts" in out
    # dbt's own lines go to the run's log file, not the terminal.
    assert "a line of dbt's output" not in out
    log = max((paths.home / "logs").glob("atlas-run-*.log"), key=lambda p: p.stat().st_mtime)
    assert "a line of dbt's output" in log.read_text()


def test_the_engine_flag_and_a_failed_spark_build(recorded, capsys) -> None:
    recorded["spark_result"] = (False, "Done. PASS=2 WARN=0 ERROR=1 SKIP=0 TOTAL=3")
    assert cli.main(["run", "--engine", "SPARK"]) == 1
    captured = capsys.readouterr()
    assert "✗ spark" in captured.out and "FAILED: Done. PASS=2 WARN=0 ERROR=1" in captured.out
    assert "Not on Spark" not in captured.out


def test_a_failed_duckdb_run_does_not_start_spark(recorded) -> None:
    recorded["pipeline_code"] = 1
    assert cli.main(["run", "--engine", "spark"]) == 1
    assert recorded["spark"] == []


def test_an_unknown_engine_is_a_usage_error(recorded, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ATLAS_ENGINE", "postgres")
    assert cli.main(["run"]) == 2
    assert "'postgres' is not one of 'duckdb', 'spark'" in capsys.readouterr().err
    assert recorded["pipeline_engine"] is None


def test_dagsters_dbt_resource_builds_the_duckdb_warehouse_whatever_atlas_engine_says(monkeypatch) -> None:
    import yaml

    from atlas_pipeline.defs.resources import resources
    from atlas_pipeline.lib.settings import DBT_PROJECT_DIR

    monkeypatch.setenv("ATLAS_ENGINE", "spark")  # `atlas ui` or the daemon started from such a shell
    target = resources().resources["dbt"].target
    outputs = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["atlas"]["outputs"]
    assert outputs[target]["type"] == "duckdb"
