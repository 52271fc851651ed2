"""Declared GX suites run as asset checks; a failing blocking suite stops downstream assets."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from atlas_pipeline.defs.quality.checks import build_suite_checks
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.expectations import load_suites, parse_suite
from atlas_pipeline.lib.settings import CHECKS_DIR
from atlas_pipeline.lib.sources import DeclarationError
from atlas_pipeline.lib.warehouse import connect

SUITE = {
    "name": "raw_demo",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "line_item_id"}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "line_item_type", "value_set": ["Usage", "Tax"]}},
    ],
    "meta": {"atlas": {"asset": ["raw", "demo"], "relation": "raw.demo", "blocking": True,
                       "description": "demo", "columns": ["line_item_id", "line_item_type"]}},
}


def _graph(home: Path, checks_dir: Path, rows: list[tuple]):
    @dg.asset(key=["raw", "demo"])
    def raw_demo() -> None:
        with connect(home / "warehouse.duckdb") as con:
            con.execute("create schema if not exists raw")
            con.execute("create or replace table raw.demo (line_item_id varchar, line_item_type varchar)")
            con.executemany("insert into raw.demo values (?, ?)", rows)

    @dg.asset(deps=[raw_demo])
    def downstream() -> None:
        pass

    result = dg.materialize(
        [raw_demo, downstream, *build_suite_checks(checks_dir)],
        resources={"warehouse": Warehouse(atlas_home=str(home))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    return result, materialized


@pytest.fixture()
def checks_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "checks"
    folder.mkdir()
    (folder / "demo.json").write_text(json.dumps(SUITE))
    return folder


def test_good_data_passes_and_downstream_materializes(tmp_path, checks_dir):
    result, materialized = _graph(tmp_path, checks_dir, [("1", "Usage"), ("2", "Tax")])
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.check_name == "gx_raw_demo"
    assert materialized == {"raw/demo", "downstream"}


def test_bad_data_blocks_downstream_and_names_the_offenders(tmp_path, checks_dir):
    result, materialized = _graph(tmp_path, checks_dir, [("1", "Usage"), (None, "Tax"), ("3", "Bogus")])
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    failures = evaluation.metadata["failures"].value
    assert {f["expectation"] for f in failures} == {
        "expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set",
    }
    assert ["Bogus"] in [f["sample_unexpected"] for f in failures]
    assert materialized == {"raw/demo"}  # downstream did not run


def test_bundled_suites_parse_and_are_blocking():
    suites = load_suites(CHECKS_DIR)
    assert {s.asset for s in suites} >= {("raw", "aws_cur2"), ("raw", "gcp_billing"), ("raw", "azure_cost_details_actual")}
    assert all(s.blocking for s in suites)


def test_malformed_suite_names_file_and_field(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**SUITE, "meta": {"atlas": {"asset": ["raw", "x"], "blocking": True}}}))
    with pytest.raises(DeclarationError, match=r"bad\.json: field 'meta\.atlas\.relation'"):
        parse_suite(path)
