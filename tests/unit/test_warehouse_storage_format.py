"""The warehouse's storage format: a new file is created in STORAGE_VERSION (strings written as
DICT_FSST, faster than v1.0.0's dictionaries), by Atlas's connections and by dbt alike; a file an
earlier Atlas created keeps its format and keeps working; the published snapshot keeps the format."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from atlas_pipeline.lib.settings import DBT_PROJECT_DIR
from atlas_pipeline.lib.warehouse.connections import STORAGE_VERSION, connect
from atlas_pipeline.lib.warehouse.publish import publish_snapshot


def _format(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select tags['storage_version'] from duckdb_databases() "
                           "where database_name = current_database()").fetchone()[0]


def _string_compression(path: Path, table: str) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {c for c, in con.execute(f"select distinct compression from pragma_storage_info('{table}') "
                                        "where segment_type = 'VARCHAR'").fetchall()}


def _write_service_names(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create table services as select 'Amazon Elastic Compute Cloud ' || (i % 40) as service_name "
                "from range(200000) t(i)")
    con.execute("checkpoint")


def test_a_new_warehouse_is_created_in_the_storage_version_and_its_snapshot_keeps_it(tmp_path: Path) -> None:
    warehouse, snapshot = tmp_path / "warehouse.duckdb", tmp_path / "published" / "warehouse.duckdb"
    with connect(warehouse) as con:
        _write_service_names(con)
    assert _format(warehouse) == f"{STORAGE_VERSION}+"
    assert _string_compression(warehouse, "services") == {"DICT_FSST"}
    publish_snapshot(warehouse, snapshot)
    assert _format(snapshot) == f"{STORAGE_VERSION}+"


def test_a_warehouse_an_earlier_atlas_created_keeps_its_format_and_its_rows(tmp_path: Path) -> None:
    """DuckDB fixes the format when it creates the file: opening an older one neither fails nor
    rewrites it (DuckDBs older than 1.3 that read it keep reading it)."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:  # DuckDB's default format, as before
        con.execute("create table costs as select 1.25::decimal(38, 12) as billed_cost")
    assert _format(warehouse) == "v1.0.0+"
    with connect(warehouse) as con:
        _write_service_names(con)
        assert str(con.execute("select sum(billed_cost) from costs").fetchone()[0]) == "1.250000000000"
    assert _format(warehouse) == "v1.0.0+"
    assert _string_compression(warehouse, "services") == {"Dictionary"}


def test_dbt_creates_a_warehouse_in_the_same_storage_version() -> None:
    """dbt may create the file first (a dbt build on an empty home): its profile names the version
    Atlas's connections use, so one definition holds for both."""
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    local = profile["atlas"]["outputs"]["local"]
    assert local["config_options"]["storage_compatibility_version"] == STORAGE_VERSION
