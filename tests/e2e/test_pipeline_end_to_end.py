"""Materialize the whole graph on a small generated estate and check money and row properties."""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
from e2e_spec import SPEC

from atlas_pipeline.lib.run.pipeline_run import refresh_warehouse
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = pytest.mark.e2e

# Warning-level checks the sample estate is expected to trip: FOCUS MUSTs Atlas's mappings do not
# meet yet, which warn rather than block (dbt_project/docs/focus_mapping.md, "Which FOCUS rules block
# and which warn"). AWS writes SavingsPlanNegation lines with a negative unblended rate.
KNOWN_WARNINGS = {("focus_cost_and_usage", "non_negative_focus_cost_and_usage_ContractedUnitPrice")}


# The billing periods of the sample estate (SPEC): August and September 2026.
SPEC_PERIODS = {"2026-08", "2026-09"}


def _money(value: float | str) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def invoice_totals_from_files(exports: Path) -> dict[tuple[str, str, str], Decimal]:
    """Σ invoice cost per (provider, billing account, period), read straight from the export files."""
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for path in exports.glob("aws/*/data/BILLING_PERIOD=*/*.parquet"):
        period = path.parent.name.split("=", 1)[1]
        table = pq.read_table(path, columns=["bill_payer_account_id", "line_item_unblended_cost"])
        for account, cost in zip(*(table.column(i).to_pylist() for i in range(2)), strict=True):
            totals[("Amazon Web Services", account, period)] += _money(cost)
    for path in exports.glob("gcp/*/*/*.jsonl.gz"):
        period = path.parent.name
        with gzip.open(path, "rt") as handle:
            for line in handle:
                row = json.loads(line)
                credits = sum((_money(c["amount"]) for c in row.get("credits") or []), Decimal(0))
                totals[("Google Cloud", row["billing_account_id"], period)] += _money(row["cost"]) + credits
    for path in exports.glob("azure/*/*/*-actual/*/*/part_*.csv"):
        folder = path.parent.parent.name  # yyyymmdd-yyyymmdd
        period = f"{folder[:4]}-{folder[4:6]}"
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                totals[("Microsoft", row["BillingAccountId"], period)] += Decimal(row["CostInBillingCurrency"])
    return dict(totals)


@pytest.fixture(autouse=True)
def _isolated_homes(materialized):
    """Every test in this module works on the session's materialized estate (tests/e2e/conftest.py)."""
    return materialized[0].home


def test_every_step_and_check_succeeds(materialized):
    _, refresh, forecast = materialized
    assert refresh.success, [e.message for e in refresh.all_events if e.is_failure]
    assert forecast.success
    evaluations = refresh.get_asset_check_evaluations()
    assert evaluations, "no asset checks ran"
    failed = [(e.asset_key.to_user_string(), e.check_name) for e in evaluations
              if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert failed == []
    warned = {(e.asset_key.to_user_string(), e.check_name) for e in evaluations if not e.passed}
    assert warned == KNOWN_WARNINGS
    check_names = {e.check_name for e in evaluations}
    assert any(name.startswith("gx_") for name in check_names), check_names  # GX suites ran
    assert any("reconciles" in name for name in check_names), check_names  # dbt tests ran


def test_every_mart_is_non_empty(materialized):
    paths, _, _ = materialized
    with connect(paths.warehouse, read_only=True) as con:
        for table in ("focus_cost_and_usage", "fct_cost_daily", "fct_gpu_hours_daily", "forecast_cost_daily"):
            assert con.execute(f"select count(*) from main.{table}").fetchone()[0] > 0, table


def test_billed_cost_equals_the_exports_to_the_cent(materialized):
    paths, _, _ = materialized
    expected = invoice_totals_from_files(paths.exports)
    assert len({k[0] for k in expected}) == 3  # all three providers generated
    with connect(paths.warehouse, read_only=True) as con:
        rows = con.execute(
            """
            select "ProviderName", "BillingAccountId", x_billing_period, sum("BilledCost")
            from main.focus_cost_and_usage group by all
            """
        ).fetchall()
    actual = {(p, a, b): Decimal(c) for p, a, b, c in rows}
    assert actual == expected


def test_daily_mart_keeps_every_cent_of_the_focus_table(materialized):
    paths, _, _ = materialized
    with connect(paths.warehouse, read_only=True) as con:
        focus = con.execute('select sum("BilledCost"), sum("EffectiveCost") from main.focus_cost_and_usage').fetchone()
        daily = con.execute("select sum(billed_cost), sum(effective_cost) from main.fct_cost_daily").fetchone()
        money_type = con.execute(
            "select data_type from information_schema.columns "
            "where table_name = 'focus_cost_and_usage' and column_name = 'BilledCost'"
        ).fetchone()[0]
    assert focus == daily
    assert money_type.startswith("DECIMAL")


def test_forecast_has_intervals_for_each_provider(materialized):
    paths, _, _ = materialized
    with connect(paths.warehouse, read_only=True) as con:
        rows = con.execute(
            """
            select series_key, count(*), min(forecast_date), bool_and(lower_95 <= point and point <= upper_95)
            from main.forecast_cost_daily where series_dimension = 'provider' group by 1 order by 1
            """
        ).fetchall()
        dimensions = {r[0] for r in con.execute("select distinct series_dimension from main.forecast_runs").fetchall()}
        chosen = con.execute("select count(*) from main.forecast_backtest_metrics where chosen").fetchone()[0]
        budgets = con.execute("select count(*), count(projected_month_end) from main.budget_status").fetchone()
        con.execute("select * from main.cost_anomalies").fetchall()  # the table exists (rows depend on the estate)
    assert {r[0] for r in rows} == {"Amazon Web Services", "Google Cloud", "Microsoft"}
    for _, count, first_day, ordered in rows:
        assert count > 0 and ordered
        assert first_day == SPEC.end_exclusive
    assert dimensions == {"provider", "service", "team", "gpu_cluster"}
    assert chosen > 0
    assert budgets[0] == 4  # assets/budgets.yaml


def test_gpu_hours_match_slurm_allocations(materialized):
    paths, _, _ = materialized
    with connect(paths.warehouse, read_only=True) as con:
        allocated = con.execute("select sum(gpu_hours_allocated) from main.fct_gpu_hours_daily").fetchone()[0]
        capacity = con.execute("select sum(gpu_hours_capacity) from main.fct_gpu_capacity_daily").fetchone()[0]
    days = (SPEC.end_exclusive - SPEC.start_month).days
    gpus = sum(h.gpu_count for h in SPEC.gpu_hosts)
    assert 0 < allocated <= capacity
    assert capacity == pytest.approx(gpus * 24 * days)


def test_rerun_is_idempotent(materialized, e2e_instance):
    """A second refresh with nothing new runs nothing: no partition, no model; every total and the
    landing manifest stay as they were."""
    paths, _, _ = materialized
    with connect(paths.warehouse, read_only=True) as con:
        before = con.execute('select count(*), sum("BilledCost") from main.focus_cost_and_usage').fetchone()
        manifest_before = con.execute("select count(*) from landing.manifest").fetchone()[0]
    again = refresh_warehouse(paths, e2e_instance)
    assert again.success and again.results == []
    assert again.plan.reasons == [] and not again.plan.warehouse_changes
    with connect(paths.warehouse, read_only=True) as con:
        after = con.execute('select count(*), sum("BilledCost") from main.focus_cost_and_usage').fetchone()
        manifest_after = con.execute("select count(*) from landing.manifest").fetchone()[0]
    assert after == before
    assert manifest_after == manifest_before



_PROVIDER_NAMES = {"aws": "Amazon Web Services", "gcp": "Google Cloud", "azure": "Microsoft"}


def test_effective_cost_equals_the_generators_amortized_cost_to_the_cent(materialized, tmp_path):
    """Σ EffectiveCost per provider × account × period = the amortized cost the generator wrote
    (same seed, so the same files); AWS's differs from its billed cost (the RI's upfront fee)."""
    from atlas_pipeline.sample_estate.estate import generate_billing

    paths, _, _ = materialized
    summary = generate_billing(tmp_path / "again", SPEC)
    expected = {(_PROVIDER_NAMES[p], a, b): v for (p, a, b), v in summary.amortized_cost.items()}
    with connect(paths.warehouse, read_only=True) as con:
        rows = con.execute(
            """
            select "ProviderName", "BillingAccountId", x_billing_period, sum("EffectiveCost"), sum("BilledCost")
            from main.focus_cost_and_usage group by all
            """
        ).fetchall()
    assert {(p, a, b): Decimal(e) for p, a, b, e, _ in rows} == expected
    aws = [(e, billed) for p, _, _, e, billed in rows if p == "Amazon Web Services"]
    assert aws and all(e != billed for e, billed in aws)


def test_unused_commitments_and_purchases_follow_focus(materialized):
    paths, _, _ = materialized
    with connect(paths.warehouse, read_only=True) as con:
        rows = con.execute(
            """
            select x_provider_line_type, "ChargeCategory", "CommitmentDiscountStatus",
                   sum("BilledCost"), sum("EffectiveCost"), count(*)
            from main.focus_cost_and_usage
            where "ProviderName" = 'Amazon Web Services' and "CommitmentDiscountId" is not null
            group by all
            """
        ).fetchall()
    by_type = {r[0]: r[1:] for r in rows}
    assert by_type["Fee"][:2] == ("Purchase", None) and by_type["Fee"][3] == 0  # upfront: EffectiveCost 0
    assert by_type["RIFee"][0] == "Purchase" and by_type["RIFee"][3] == 0
    unused = by_type["RIFee:unused"]
    assert unused[:2] == ("Usage", "Unused") and unused[2] == 0 and unused[3] > 0
    assert by_type["DiscountedUsage"][:3] == ("Usage", "Used", 0)


def test_focus_validator_reports_only_explained_failures(materialized):
    """The FinOps Foundation's focus-validator (own Python 3.12 env via uv, bundled FOCUS 1.2
    rules, no rule download) over the e2e table. Failures left: the InvoiceId nullability pair,
    which cannot both hold on a table mixing invoiced (AWS, GCP) and not-yet-invoiced (Azure EA
    cost details carry no InvoiceId) rows; README explains. Skips when the validator's
    environment cannot be built on this machine (no Python 3.12, no package index)."""
    import subprocess
    import sys

    from atlas_pipeline.lib.settings import REPO_ROOT

    paths, _, _ = materialized
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "tools" / "focus_validate.py"), "--warehouse", str(paths.warehouse)],
        capture_output=True, text=True, check=False, timeout=900,
    )
    if result.returncode != 0 and "did not run" in result.stdout:
        pytest.skip(f"focus-validator could not run here: {result.stdout[-500:]}")
    assert result.returncode == 0, result.stdout + result.stderr
    failed = {line.split(":")[0][2:] for line in result.stdout.splitlines() if line.startswith("- ")}
    assert failed <= {"InvoiceId-C-000-O", "InvoiceId-C-003-C", "InvoiceId-C-004-C", "InvoiceId-C-005-C"}, (
        result.stdout
    )
    assert " passed, " in result.stdout


def test_quality_summary_covers_every_source_and_mart(materialized):
    paths, refresh, _ = materialized
    with connect(paths.warehouse, read_only=True) as con:
        rows = con.execute(
            "select asset_key, sum(checks_run), sum(checks_failed), sum(checks_warned), sum(files_quarantined) "
            "from main.data_quality_summary group by 1"
        ).fetchall()
        periods = {r[0] for r in con.execute(
            "select partition from main.data_quality_summary where asset_key = 'raw/aws_cur2'"
        ).fetchall()}
        # The latest outcome of each check per partition, as the summary view counts them.
        warned_checks = con.execute(
            "with latest as (select * from quality.check_results qualify row_number() over "
            "(partition by asset_key, partition, check_name order by evaluated_at desc) = 1) "
            "select asset_key, check_name, list(partition order by partition) from latest "
            "where status = 'warned' group by all"
        ).fetchall()
    summary = {asset: (run, failed, warned, quarantined) for asset, run, failed, warned, quarantined in rows}
    for asset in ("raw/aws_cur2", "raw/gcp_billing", "raw/dcgm_samples", "raw/slurm_jobs", "raw/gpu_nodes",
                  "focus_cost_and_usage", "fct_cost_daily", "fct_gpu_hours_daily", "fct_gpu_capacity_daily"):
        assert asset in summary and summary[asset][0] > 0, asset
    assert all(failed == quarantined == 0 for _, failed, _, quarantined in summary.values())
    # The mart is built per billing period and its tests are recorded per period: each known warning
    # is reported once for every period it holds in (the estate's AWS bill has SavingsPlanNegation
    # lines in both months), and nothing else warns.
    warned = {asset: warned for asset, (_, _, warned, _) in summary.items() if warned}
    assert warned == {"focus_cost_and_usage": len(KNOWN_WARNINGS) * len(SPEC_PERIODS)}
    assert {(asset, check): partitions for asset, check, partitions in warned_checks} == {
        known: sorted(SPEC_PERIODS) for known in KNOWN_WARNINGS
    }
    assert SPEC_PERIODS <= periods  # the GX suites report per billing period


def test_restated_month_rebuilds_only_that_period_and_replaces_it(materialized, e2e_instance):
    """AWS restates September (a new export version, 10% of its line items gone): the next run
    rebuilds September only — August keeps its rows and its x_loaded_at — and September's totals
    are the restated file's, never the sum of both deliveries. (Runs last: it changes the estate.)"""
    paths, _, _ = materialized
    [september] = paths.exports.glob("aws/*/data/BILLING_PERIOD=2026-09/*.parquet")
    table = pq.read_table(september)
    pq.write_table(table.slice(0, int(table.num_rows * 0.9)), september)
    expected = invoice_totals_from_files(paths.exports)
    def periods_and_august(con):
        """(x_loaded_at per billing period, August's row count and EffectiveCost)."""
        loaded = dict(con.execute(
            "select x_billing_period, max(x_loaded_at) from main.focus_cost_and_usage group by 1"
        ).fetchall())
        august = con.execute(
            "select count(*), sum(\"EffectiveCost\") from main.focus_cost_and_usage where x_billing_period = '2026-08'"
        ).fetchone()
        return loaded, august

    with connect(paths.warehouse, read_only=True) as con:
        loaded_before, august_before = periods_and_august(con)
        aws_september_before = con.execute(
            "select sum(\"BilledCost\") from main.focus_cost_and_usage "
            "where x_billing_period = '2026-09' and \"ProviderName\" = 'Amazon Web Services'"
        ).fetchone()[0]
    result = refresh_warehouse(paths, e2e_instance)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    # Exactly one billing partition ran: the restated month's; no telemetry day.
    [billing] = result.job_results("billing_job")
    assert billing.dagster_run.tags.get("dagster/partition") == "2026-09"
    assert result.job_results("telemetry_job") == []
    assert e2e_instance.get_materialized_partitions(dg.AssetKey("focus_cost_and_usage")) >= {"2026-08", "2026-09"}
    with connect(paths.warehouse, read_only=True) as con:
        loaded_after, august_after = periods_and_august(con)
        billed = con.execute(
            'select "ProviderName", "BillingAccountId", x_billing_period, sum("BilledCost") '
            "from main.focus_cost_and_usage group by all"
        ).fetchall()
        focus_total, daily_total = con.execute(
            'select (select sum("EffectiveCost") from main.focus_cost_and_usage), '
            "(select sum(effective_cost) from main.fct_cost_daily)"
        ).fetchone()
        daily_loaded = dict(
            con.execute("select billing_period, max(loaded_at) from main.fct_cost_daily group by 1").fetchall()
        )
    assert loaded_after["2026-08"] == loaded_before["2026-08"] and august_after == august_before
    assert loaded_after["2026-09"] > loaded_before["2026-09"]
    assert {(p, a, b): Decimal(c) for p, a, b, c in billed} == expected
    restated = [c for (p, _, b), c in expected.items() if p == "Amazon Web Services" and b == "2026-09"]
    assert sum(restated) != aws_september_before  # the restatement did change September
    assert focus_total == daily_total and daily_loaded == loaded_after  # the daily mart followed, period by period
