"""Run the project's dbt against a test warehouse, as a subprocess (the way dagster-dbt runs it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from atlas_pipeline.lib.settings import DBT_PROJECT_DIR


def dbt(warehouse: Path, work: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `dbt <args>` on `warehouse` with target and logs under `work`; returns the finished
    process (check returncode). `env` adds variables to the inherited environment."""
    exe = Path(sys.executable).parent / "dbt"
    environment = {**os.environ, **(env or {}), "ATLAS_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(
        [str(exe), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        env=environment, capture_output=True, text=True, timeout=900,
    )


def fetch_rows(warehouse: Path, sql: str) -> list[dict]:
    """The result of `sql` on `warehouse` (read-only), one dict per row."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    finally:
        con.close()


def land_typed(con: duckdb.DuckDBPyConnection, source_name: str, path: Path, period: str) -> Path:
    """Land one file of a declared source through the real landing reader (read once, typed by its
    contract, lineage columns added) and return the typed parquet, for tests that build their own
    raw views. A rejected file fails the test with its reason."""
    from atlas_pipeline.lib.ingest.file_validation import land_file
    from atlas_pipeline.lib.ingest.sources import parse_source
    from atlas_pipeline.lib.settings import DECLARATIONS_DIR

    source = parse_source(DECLARATIONS_DIR / "sources" / f"{source_name}.yaml")
    typed = Path(str(path) + ".typed.parquet")
    verdict = land_file(con, source, period, "v1", path.name, path, typed, str(path))
    assert not verdict.rejected, verdict.problem
    return typed
