"""The data_quality_summary table: per asset × partition, checks run/passed/failed/warned and rows quarantined."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from atlas_pipeline.defs.quality.checks import build_suite_checks
from atlas_pipeline.defs.quality.report import data_quality_summary
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.quality.expectations import load_suites
from atlas_pipeline.lib.quality.quality_report import ensure_report
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = pytest.mark.dagster

FULL_SUITE = Path(__file__).parents[1] / "fixtures" / "gx" / "aws_cur2_full_suite.json"
ROWS = [  # (id, currency, period): September has one row with a lowercase currency
    ("a1", "USD", "2026-08"), ("a2", "USD", "2026-08"), ("a3", "USD", "2026-09"), ("a4", "usd", "2026-09"),
]


def checks_dir(tmp_path: Path, blocking: bool) -> Path:
    folder = tmp_path / "checks" / "raw"
    folder.mkdir(parents=True)
    # The fuller CUR 2.0 suite (with the currency regex the file contract now holds): a GX rule to fail.
    data = json.loads(FULL_SUITE.read_text())
    data["meta"]["atlas"] |= {"blocking": blocking, "partition_column": "x_period"}
    (folder / "aws_cur2.json").write_text(json.dumps(data))
    return folder.parent


def run(tmp_path: Path, blocking: bool):
    home = tmp_path / "atlas"
    with connect(home / "warehouse.duckdb") as con:
        ensure_report(con)
        con.execute(  # a file quarantined at landing: 7 rows of September never reached raw
            "insert into landing.manifest values ('aws_cur2', 'BILLING_PERIOD=2026-09/bad.parquet', '2026-09', 'v1', 10, "
            "'f', null, ?, null, ?, 'quarantined', 7, 'failed file contract')",
            [datetime(2026, 9, 2, tzinfo=UTC), datetime(2026, 9, 2, tzinfo=UTC)],
        )

    @dg.asset(key=["raw", "aws_cur2"])
    def raw_aws_cur2() -> None:
        with connect(home / "warehouse.duckdb") as con:
            con.execute("create schema if not exists raw")
            con.execute(
                "create or replace table raw.aws_cur2 as "
                "select id as identity_line_item_id, '2109' as bill_payer_account_id, "
                "'Usage' as line_item_line_item_type, timestamptz '2026-08-01 00:00:00+00' as line_item_usage_start_date, "
                "timestamptz '2026-08-01 01:00:00+00' as line_item_usage_end_date, 1.5 as line_item_unblended_cost, "
                "ccy as line_item_currency_code, period as x_period from (values " +
                ", ".join(f"('{i}', '{c}', '{p}')" for i, c, p in ROWS) + ") v(id, ccy, period)"
            )

    @dg.asset_check(asset=raw_aws_cur2, name="row_count_sane")
    def row_count_sane() -> dg.AssetCheckResult:  # stands in for a dbt test or a freshness check
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN)

    @dg.asset(key="focus_cost_and_usage", deps=[raw_aws_cur2])
    def mart() -> None:
        pass

    result = dg.materialize(
        [raw_aws_cur2, mart, data_quality_summary, row_count_sane,
         *build_suite_checks(load_suites(checks_dir(tmp_path, blocking)))],
        resources={"warehouse": Warehouse(atlas_home=str(home))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    with connect(home / "warehouse.duckdb", read_only=True) as con:
        summary = con.execute(
            "select asset_key, partition, checks_run, checks_passed, checks_failed, checks_warned, files_quarantined, "
            "rows_quarantined from main.data_quality_summary"
        ).fetchall()
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    return summary, materialized


def test_summary_counts_checks_per_partition_and_rows_quarantined(tmp_path):
    summary, materialized = run(tmp_path, blocking=False)
    assert "data_quality_summary" in materialized
    assert summary == [
        ("raw/aws_cur2", "2026-08", 1, 1, 0, 0, 0, 0),
        ("raw/aws_cur2", "2026-09", 1, 0, 0, 1, 1, 7),  # the GX suite warned on September only
        ("raw/aws_cur2", "all", 1, 0, 0, 1, 0, 0),  # the non-GX check, recorded by the summary asset
    ]


def test_a_blocking_failure_is_recorded_even_though_it_stops_the_summary_asset(tmp_path):
    summary, materialized = run(tmp_path, blocking=True)
    assert materialized == {"raw/aws_cur2"}  # mart and summary skipped
    assert ("raw/aws_cur2", "2026-09", 1, 0, 1, 0, 1, 7) in summary
    assert ("raw/aws_cur2", "2026-08", 1, 1, 0, 0, 0, 0) in summary
