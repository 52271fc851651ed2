"""The dbt project on Apache Spark (`ATLAS_ENGINE=spark`): the `raw.*` relations as Spark tables over
the landed parquet, then `dbt build` through dbt-spark's session method (profiles.yml, target `spark`).

Landing is engine-neutral: every delivered file is landed once as parquet (lib/ingest/landing.py), so Spark
reads the same files DuckDB reads. `raw.<source>` on Spark is a view over a parquet table over a folder
that links the source's current landed files (schemas merged by name, as DuckDB's `union_by_name`),
each row's `x_source_row` its position in its file (`_metadata.row_index`, as DuckDB's views read
`file_row_number`: raw_relations.landed_rows_sql). The
few raw relations the ingest assets compute in Python (Slurm NodeList expansion, Kubernetes team
rules, GPU pricing), the typed empty relations of absent sources and the landing manifest's current
deliveries are copied once to parquet and read the same way. On a cluster, landing lives in object
storage (`s3a://`, `abfss://`, `gs://`): the same tables are declared over those URIs.

dbt runs in this process, in the Spark session that registered the raw tables (one JVM start).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb

from atlas_pipeline.lib.ingest.raw_relations import source_row_sql, sql_literal, stores_row_numbers
from atlas_pipeline.lib.settings import DBT_PROJECT_DIR

SPARK_TARGET = "spark"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# What `atlas run --engine spark` builds on Spark (and tests/e2e/test_spark_engine.py proves): every
# model but the report views, and the singular tests (reconciliation, conservation, no line in two
# files). The rpt_* views read forecast tables Dagster's Python assets write into DuckDB; the ~300
# generic column tests and the dbt unit tests check the same SQL in the DuckDB build.
SPARK_BUILD_ARGS = ("build", "--exclude", "reports", "test_type:generic", "--exclude-resource-type", "unit_test")
NOT_BUILT_ON_SPARK = (
    "not on Spark: rpt_* report views, forecasts/anomalies/budgets (Dagster's Python assets), generic column "
    "tests and dbt unit tests (run in the DuckDB build); `atlas sql`, the dashboard and the published snapshot "
    "read DuckDB's warehouse"
)
# Besides raw.*, the models read the landing manifest's current deliveries (incremental billing
# marts, delivery completeness): a parquet copy of it.
LANDING_RELATIONS = ("current_files",)


def java_available() -> bool:
    """Whether a Java runtime can start Spark's JVM (a `java` on PATH or JAVA_HOME set)."""
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def table_over_files_sql(relation: str, folder: Path) -> str:
    """`relation` on Spark as a parquet table over the files in `folder`, their columns merged by
    name (a column a file lacks reads as NULL), as DuckDB's `union_by_name`."""
    location = str(folder).replace("'", "\\'")
    return (
        f"create table {relation} using parquet options (mergeSchema 'true') location '{location}'"
    )


def _link_files(folder: Path, files: Sequence[str]) -> None:
    """`folder` lists exactly `files` (symbolic links: Spark reads the landed files themselves)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for index, path in enumerate(files):
        (folder / f"{index:06d}-{Path(path).name}").symlink_to(path)


def raw_table_statements(warehouse: Path, spark_dir: Path) -> list[str]:
    """The statements that create every `raw.*` relation of the DuckDB warehouse on Spark, and
    the landing manifest's current deliveries: landed sources over their landed parquet files,
    everything else (tables the ingest assets compute, absent sources' typed empty relations)
    over a parquet copy, all under `spark_dir/raw/<schema>/<name>`."""
    root = spark_dir / "raw"
    statements = []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema = 'raw' or (table_schema = 'landing' and table_name in "
            f"({', '.join(sql_literal(n) for n in LANDING_RELATIONS)})) order by 1, 2"
        ).fetchall()
        has_manifest = any(schema == "landing" and name == "current_files" for schema, name in relations)
        for schema in sorted({schema for schema, _ in relations}):
            statements.append(f"create database if not exists {schema}")
        for schema, name in relations:
            landed = []
            if schema == "raw" and has_manifest:
                landed = [r[0] for r in con.execute(
                    "select landed_path from landing.current_files where source = ? and status = 'landed' "
                    "order by landed_path", [name],
                ).fetchall()]
            folder = root / schema / name
            relation = f"{schema}.{_quote(name)}"
            if landed:
                _link_files(folder, landed)
                files_table = f"{schema}.{_quote('landed_files__' + name)}"
                statements.append(f"drop table if exists {files_table}")
                statements.append(table_over_files_sql(files_table, folder))
                statements.append(f"drop view if exists {relation}")
                statements.append(_numbered_view_sql(con, relation, files_table, f"{schema}.{name}",
                                                     stores_row_numbers(con, landed)))
                continue
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            con.execute(
                f"copy (select * from {schema}.{name}) to {sql_literal(str(folder / 'data.parquet'))} (format parquet)"
            )
            statements.append(f"drop table if exists {relation}")
            statements.append(table_over_files_sql(relation, folder))
    finally:
        con.close()
    return statements


def _numbered_view_sql(con: duckdb.DuckDBPyConnection, view: str, files_table: str, duckdb_relation: str,
                       rows_stored: bool) -> str:
    """A view over `files_table` with DuckDB's `raw.<source>` columns in their order, `x_source_row`
    read from each row's position in its file (or the number an earlier Atlas stored in it)."""
    row = source_row_sql("_metadata.row_index", rows_stored)
    columns = [r[0] for r in con.execute(f"describe {duckdb_relation}").fetchall()]
    select = ", ".join(f"{row} as x_source_row" if c == "x_source_row" else _quote(c) for c in columns)
    return f"create view {view} as select {select} from {files_table}"


def spark_settings(spark_dir: Path) -> dict[str, str]:
    """The Spark session Atlas builds with: local mode on 127.0.0.1 unless ATLAS_SPARK_MASTER names
    a cluster; files under `spark_dir`; SQL read the way the models write it."""
    return {
        "spark.master": os.environ.get("ATLAS_SPARK_MASTER", "local[2]"),
        "spark.driver.memory": os.environ.get("ATLAS_SPARK_DRIVER_MEMORY", "1g"),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir / 'derby'}",
        # The catalog lives for the build: raw.* is registered from landing each time, and no
        # metastore limits the length of a view's SQL (Derby's does: 32 kB).
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "true",
        # "Quoted" names are identifiers (FOCUS's "BilledCost"), as in DuckDB and the SQL standard.
        "spark.sql.ansi.doubleQuotedIdentifiers": "true",
        # Backslashes in string literals are the regex's own ('^\\d+'), as in DuckDB.
        "spark.sql.parser.escapedStringLiterals": "true",
        # `timestamp` means a UTC wall-clock time without zone, as DuckDB's TIMESTAMP.
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        # DECIMAL sums and products keep their scale (DuckDB's exact money arithmetic) instead of
        # rounding to fewer places when the precision passes 38; money never needs > 26 digits.
        "spark.sql.decimalOperations.allowPrecisionLoss": "false",
        # Tables written as plain parquet any engine reads (not INT96 timestamps).
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    }


def spark_session(spark_dir: Path):
    """The Spark session dbt-spark's session method will reuse (it calls getOrCreate)."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName("atlas-dbt")
    for key, value in spark_settings(spark_dir).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _keep_ansi_mode() -> None:
    """dbt-spark 1.11 sets `spark.sql.ansi.enabled=false` on every statement (connections.py, "for
    Spark 3 and 4 compatibility"). Without ANSI mode Spark reads "BilledCost" as a string literal,
    not a column — silently wrong results for models that quote FOCUS names. Keep it on."""
    from dbt.adapters.spark.connections import SparkCredentials

    if getattr(SparkCredentials, "_atlas_ansi", False):
        return
    original = SparkCredentials.__post_init__

    def post_init(self) -> None:
        original(self)
        self.server_side_parameters["spark.sql.ansi.enabled"] = "true"

    SparkCredentials.__post_init__ = post_init
    SparkCredentials._atlas_ansi = True


def start_spark(warehouse: Path, spark_dir: Path):
    """The Spark session dbt will run in, with `raw.*` (from the DuckDB warehouse's landing) and the
    landing manifest registered; the environment set for the `spark` dbt target."""
    spark_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update({"ATLAS_ENGINE": "spark", "ATLAS_SPARK_DIR": str(spark_dir)})
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    _keep_ansi_mode()
    spark = spark_session(spark_dir)
    for statement in raw_table_statements(warehouse, spark_dir):
        spark.sql(statement)
    return spark


def run_dbt_on_spark(spark_dir: Path, dbt_args: Sequence[str]) -> bool:
    """`dbt <dbt_args>` on the `spark` target, in this process's Spark session (start_spark first);
    True when every node succeeded. run_results.json lands in `spark_dir/target`."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke([
        *dbt_args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", SPARK_TARGET, "--target-path", str(spark_dir / "target"), "--log-path", str(spark_dir / "logs"),
    ])
    return bool(result.success)


def build_on_spark(warehouse: Path, spark_dir: Path, dbt_args: Sequence[str] = ("build",)) -> bool:
    """Register `raw.*` (from the DuckDB warehouse's landing) in Spark, then run `dbt <dbt_args>` on
    the `spark` target, in this process; True when every node succeeded."""
    start_spark(warehouse, spark_dir)
    return run_dbt_on_spark(spark_dir, dbt_args)


def spark_build_command(warehouse: Path, spark_dir: Path, dbt_args: Sequence[str] = SPARK_BUILD_ARGS) -> list[str]:
    """The command that builds the dbt project on Spark in its own process (its JVM ends with it)."""
    import sys

    return [sys.executable, "-m", "atlas_pipeline.lib.warehouse.spark_engine", str(warehouse), str(spark_dir), *dbt_args]


def build_in_subprocess(warehouse: Path, spark_dir: Path, record=print,
                        dbt_args: Sequence[str] = SPARK_BUILD_ARGS) -> tuple[bool, str]:
    """Build on Spark in a child process, a fresh Spark warehouse each time (the catalog lives for one
    build: tables over existing folders would be refused); every output line goes to `record`.
    Returns (success, dbt's closing "Done. PASS=… ERROR=…" line or the last line printed)."""
    import subprocess

    shutil.rmtree(spark_dir / "warehouse", ignore_errors=True)
    spark_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done, last = "", ""
    with subprocess.Popen(spark_build_command(warehouse, spark_dir, dbt_args), env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            record(line)
            text = _ANSI.sub("", line).strip()
            last = text or last
            if "Done. PASS=" in text:
                done = text[text.index("Done. PASS="):]
    return proc.returncode == 0, done or last


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m atlas_pipeline.lib.warehouse.spark_engine <warehouse.duckdb> <spark dir> [dbt args…]`."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    warehouse, spark_dir, dbt_args = Path(args[0]), Path(args[1]), args[2:] or ["build"]
    return 0 if build_on_spark(warehouse, spark_dir, dbt_args) else 1


if __name__ == "__main__":
    raise SystemExit(main())
