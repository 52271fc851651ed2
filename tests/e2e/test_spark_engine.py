"""The same dbt project on Apache Spark: the session's sample estate (tests/e2e/conftest.py), built
once more on a real local Spark (PySpark in local mode, dbt-spark's session method, the machine's
JDK), reading the same landed parquet; its marts equal DuckDB's row for row and to the cent.

Spark runs in a subprocess (`python -m atlas_pipeline.lib.spark_engine`), so its JVM ends with the
build; the tables it wrote are parquet under the Spark warehouse folder, read here with DuckDB."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.spark, pytest.mark.e2e]

# The marts the issue names: the FOCUS table, the daily cost mart and the GPU marts.
MARTS = (
    "focus_cost_and_usage",
    "fct_cost_daily",
    "fct_gpu_capacity_daily",
    "fct_gpu_cost_allocation",
    "fct_gpu_health_daily",
    "fct_gpu_hours_daily",
    "fct_gpu_job_usage",
    "fct_gpu_usage_hourly",
    "gpu_health_events",
)
# Each engine's own build time, not data.
BUILD_STAMPS = {"x_loaded_at", "loaded_at"}


@pytest.fixture(scope="module")
def spark_build(materialized, tmp_path_factory):
    """`dbt build` of the whole project but the report views (they read the forecast outputs,
    which Dagster writes) on Spark, once for the module; returns (DuckDB warehouse, Spark dir)."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime: Spark needs a JDK (17 on these machines)")
    paths, refresh, _ = materialized
    assert refresh.success
    spark_dir = tmp_path_factory.mktemp("spark")
    done = subprocess.run(
        [sys.executable, "-m", "atlas_pipeline.lib.spark_engine", str(paths.warehouse), str(spark_dir),
         "build", "--exclude", "reports", "--exclude-resource-type", "unit_test"],
        capture_output=True, text=True, timeout=900, env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"},
    )
    return paths.warehouse, spark_dir, done


def _spark_table(spark_dir: Path, name: str) -> str:
    folder = spark_dir / "warehouse" / "main.db" / name
    assert folder.is_dir(), f"Spark did not write main.{name}"
    return f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true, union_by_name = true)"


def test_every_model_and_test_passes_on_spark(spark_build):
    _, _, done = spark_build
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-60:])
    assert done.returncode == 0, tail
    assert "ERROR=0" in done.stdout, tail


@pytest.mark.parametrize("mart", MARTS)
def test_mart_equals_duckdb_row_for_row_to_the_cent(spark_build, mart):
    warehouse, spark_dir, _ = spark_build
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{warehouse}' as duck (read_only)")
        con.execute(f"create view spark_mart as select * from {_spark_table(spark_dir, mart)}")
        duck_columns = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_catalog = 'duck' and table_schema = 'main' and table_name = ? order by ordinal_position", [mart]
        ).fetchall()
        spark_columns = {r[0] for r in con.execute("describe spark_mart").fetchall()}
        assert {c for c, _ in duck_columns} == spark_columns
        # Money to the cent, measures to 1e-6 (floating-point sums depend on the order), times in UTC.
        items = []
        for column, kind in duck_columns:
            if column in BUILD_STAMPS:
                continue
            quoted = '"' + column.replace('"', '""') + '"'
            if kind.startswith("DECIMAL"):
                items.append(f"round({quoted}, 2)")
            elif kind in ("DOUBLE", "FLOAT"):
                items.append(f"round({quoted}, 6)")
            elif kind.startswith("TIMESTAMP"):
                items.append(f"cast({quoted} as timestamp)")
            elif kind == "JSON":
                items.append(f"cast(json({quoted}) as varchar)")
            else:
                items.append(f"cast({quoted} as {kind})")
        select = ", ".join(items)
        duck_rows = con.execute(f"select count(*) from duck.main.{mart}").fetchone()[0]
        spark_rows = con.execute("select count(*) from spark_mart").fetchone()[0]
        only_duck = con.execute(
            f"select * from (select {select} from duck.main.{mart} except all select {select} from spark_mart) limit 3"
        ).fetchall()
        only_spark = con.execute(
            f"select * from (select {select} from spark_mart except all select {select} from duck.main.{mart}) limit 3"
        ).fetchall()
    finally:
        con.close()
    assert duck_rows > 0
    assert spark_rows == duck_rows
    assert only_duck == [] and only_spark == [], (only_duck, only_spark)
