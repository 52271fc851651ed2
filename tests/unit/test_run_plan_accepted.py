"""`atlas accept` makes a held-back delivery current without anything new landing: the period must
still be rebuilt. The run plan and the delivery sensors see an accepted delivery until the source's
raw asset materializes that period after the acceptance (a real Dagster instance, real landing
tables)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import dagster as dg
import duckdb

from atlas_pipeline.lib.ingest.landing import ensure_manifest
from atlas_pipeline.lib.run.run_plan import accepted_deliveries


def _judgement(con: duckdb.DuckDBPyConnection, period: str, version: str, accepted_at: datetime | None) -> None:
    con.execute(
        "insert or replace into landing.delivery_judgements (source, period, export_version, verdict, reason, "
        "rows_delivered, rows_before, judged_at, accepted_at, accepted_by) "
        "values ('azure_cost_details_actual', ?, ?, 'held_back', 'much smaller', 10, 100, ?, ?, 'oncall')",
        [period, version, datetime(2026, 1, 1, tzinfo=UTC), accepted_at],
    )


def test_an_accepted_delivery_is_pending_until_its_period_is_built_again():
    source = SimpleNamespace(name="azure_cost_details_actual", partitioning="billing_period")
    key = dg.AssetKey(["raw", source.name])
    with duckdb.connect() as con, dg.DagsterInstance.ephemeral() as instance:
        ensure_manifest(con)
        now = datetime.now(UTC)
        _judgement(con, "2023-09", "run-2", now - timedelta(hours=1))
        _judgement(con, "2023-10", "run-5", None)  # held back, not accepted: stays out
        assert accepted_deliveries(con, source, instance) == ["2023-09@run-2 (accepted)"]

        # Another period built since: September still pending.
        instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="2023-10"))
        assert accepted_deliveries(con, source, instance) == ["2023-09@run-2 (accepted)"]

        # September built after the acceptance: done.
        instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="2023-09"))
        assert accepted_deliveries(con, source, instance) == []

        # A later acceptance (a newer held-back delivery) puts it back.
        _judgement(con, "2023-09", "run-3", datetime.now(UTC) + timedelta(seconds=5))
        assert accepted_deliveries(con, source, instance) == ["2023-09@run-3 (accepted)"]


def test_no_judgements_table_means_nothing_accepted():
    source = SimpleNamespace(name="gpu_nodes", partitioning="none")
    with duckdb.connect() as con, dg.DagsterInstance.ephemeral() as instance:
        assert accepted_deliveries(con, source, instance) == []
