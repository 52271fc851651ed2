"""The same dbt project on Apache Spark: the session's sample estate (tests/e2e/conftest.py), built
once more on a real local Spark (PySpark in local mode, dbt-spark's session method, the machine's
JDK), reading the same landed parquet; its marts equal DuckDB's row for row and to the cent.

Spark runs in a subprocess (`python -m atlas_pipeline.lib.warehouse.spark_engine`, as `atlas run --engine
spark` starts it), so its JVM ends with the build; the tables it wrote are parquet under the Spark
warehouse folder, read here with DuckDB."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.warehouse.spark_engine import build_in_subprocess, java_available

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
    which Dagster writes) on Spark, once for the module; returns (DuckDB warehouse, Spark dir).
    Singular tests (reconciliation, conservation, no line in two files) run on Spark; the ~300
    generic column tests are left to the DuckDB build (same SQL through the same macros), to keep
    the suite inside CI's budget."""
    if not java_available():
        pytest.skip("no Java runtime: Spark needs a JDK (17 on these machines)")
    paths, refresh, _ = materialized
    assert refresh.success
    spark_dir = tmp_path_factory.mktemp("spark")
    # What `atlas run --engine spark` runs after the DuckDB build (cli.py), selection included.
    lines: list[str] = []
    ok, last = build_in_subprocess(paths.warehouse, spark_dir, record=lines.append)
    return paths.warehouse, spark_dir, (ok, last, lines)


def _spark_table(spark_dir: Path, name: str) -> str:
    folder = spark_dir / "warehouse" / "main.db" / name
    assert folder.is_dir(), f"Spark did not write main.{name}"
    return f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true, union_by_name = true)"


def test_every_model_and_test_passes_on_spark(spark_build):
    _, _, (ok, last, lines) = spark_build
    tail = "\n".join(lines[-60:])
    assert ok, tail
    assert last.startswith("Done. PASS=") and "ERROR=0" in last, tail


def _rows(con: duckdb.DuckDBPyConnection, relation: str, items: list[str]) -> list[tuple]:
    return con.execute(f"select {', '.join(items)} from {relation}").fetchall()


def _sort_key(row: tuple) -> tuple:
    # floats only to 3 places for ordering: the order of a floating-point sum moves the last digits
    return tuple((0, "") if v is None else (1, round(v, 3) if isinstance(v, float) else str(v)) for v in row)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


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
        # Money to the cent; times as UTC wall-clock; JSON as parsed; doubles compared below within
        # 1e-9 (Spark and DuckDB sum floating-point values in different orders).
        items = []
        for column, kind in duck_columns:
            if column in BUILD_STAMPS:
                continue
            quoted = '"' + column.replace('"', '""') + '"'
            if kind.startswith("DECIMAL"):
                items.append(f"round({quoted}, 2)")
            elif kind.startswith("TIMESTAMP"):
                items.append(f"cast({quoted} as timestamp)")
            elif kind == "JSON":
                items.append(f"cast(json({quoted}) as varchar)")
            elif kind in ("DOUBLE", "FLOAT"):
                items.append(f"cast({quoted} as double)")
            else:
                items.append(f"cast({quoted} as {kind})")
        duck_rows = sorted(_rows(con, f"duck.main.{mart}", items), key=_sort_key)
        spark_rows = sorted(_rows(con, "spark_mart", items), key=_sort_key)
    finally:
        con.close()
    assert duck_rows, f"{mart} is empty: the comparison would prove nothing"
    assert len(spark_rows) == len(duck_rows)
    differing = [
        (d, s) for d, s in zip(duck_rows, spark_rows, strict=True)
        if not all(_same(a, b) for a, b in zip(d, s, strict=True))
    ]
    assert differing == [], differing[:3]
