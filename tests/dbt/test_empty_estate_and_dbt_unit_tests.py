"""An estate with no sources at all is valid: every raw relation is the typed empty view its
contract declares, the whole dbt project builds on it with every test green, and the marts are
empty. On that warehouse — every source's columns present, no user data — the dbt unit tests run
here, in the test suite; `atlas run` never runs them against a user's relations."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.ingest.gpu_pricing import write_gpu_pricing
from atlas_pipeline.lib.ingest.kubernetes_teams import write_kubernetes_teams
from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import open_store
from atlas_pipeline.lib.ingest.slurm_nodelists import write_slurm_tables
from atlas_pipeline.lib.ingest.sources import load_sources
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.warehouse.dbt_catalog import column_descriptions, describe_column

pytestmark = pytest.mark.dbt


def test_nothing_delivered_builds_every_model_and_the_dbt_unit_tests_pass(tmp_path: Path, dbt, fetch_rows) -> None:
    exports, warehouse = tmp_path / "exports", tmp_path / "warehouse.duckdb"
    exports.mkdir()
    con = duckdb.connect(str(warehouse))
    for source in load_sources(DECLARATIONS_DIR / "sources"):
        store = open_store(source.resolved_location({"ATLAS_EXPORTS": str(exports)}))
        report = land_source(con, source, store, tmp_path / "landing", tmp_path / "quarantine")
        assert report.listed == 0
        assert refresh_raw_view(con, source) == {"files": 0, "periods": []}
    write_gpu_pricing(con, [])  # the other ingest assets: nothing declared, empty tables
    write_kubernetes_teams(con, [])
    write_slurm_tables(con, "slurm_jobs")
    con.close()

    build = dbt(warehouse, tmp_path, "build", "--exclude-resource-type", "unit_test")
    assert build.returncode == 0, build.stdout[-5000:]
    marts = fetch_rows(
        warehouse,
        "select table_name from information_schema.tables where table_schema = 'main' and table_type = 'BASE TABLE'",
    )
    assert {"focus_cost_and_usage", "fct_cost_daily", "fct_gpu_hours_daily"} <= {m["table_name"] for m in marts}
    for mart in marts:
        [count] = fetch_rows(warehouse, f'select count(*) as n from main."{mart["table_name"]}"')
        assert count["n"] == 0, mart

    assert _undocumented_columns(fetch_rows, warehouse, tmp_path / "target" / "manifest.json") == {}

    unit = dbt(warehouse, tmp_path, "test", "--select", "test_type:unit")
    assert unit.returncode == 0, unit.stdout[-5000:]
    assert "PASS=0" not in unit.stdout  # the unit tests ran




def _undocumented_columns(fetch_rows, warehouse: Path, manifest_path: Path) -> dict[str, list[str]]:
    """model -> the columns its warehouse relation has that the Dagster catalog would show without a
    description (neither the model's yml nor a `column__<name>` doc block describes them, the same
    lookup as defs/transform/dbt.py)."""
    manifest = json.loads(manifest_path.read_text())
    described = column_descriptions(manifest)
    relations: dict[tuple[str, str], list[str]] = {}
    for row in fetch_rows(warehouse, "select table_schema, table_name, column_name from information_schema.columns "
                                     "order by table_schema, table_name, ordinal_position"):
        relations.setdefault((row["table_schema"], row["table_name"]), []).append(row["column_name"])
    missing: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        own = {name.lower() for name, column in node["columns"].items() if (column.get("description") or "").strip()}
        columns = relations.get((node["schema"], node.get("alias") or node["name"]))
        assert columns, f"{node['name']}: not built"
        gaps = [c for c in columns if c.lower() not in own and not describe_column(c, described)]
        if gaps:
            missing[node["name"]] = gaps
    return missing
