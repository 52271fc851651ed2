"""The sample estate's billing exports: layout, schemas, determinism, money and commitments."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atlas_pipeline.sample_estate import layout
from atlas_pipeline.sample_estate.__main__ import add_cli_arguments, main, spec_from_args
from atlas_pipeline.sample_estate.aws_cur2 import (
    CUR2_SCHEMA,
    P5_ON_DEMAND_RATE,
    PAYER_ACCOUNT_ID,
    SP_HOURLY_COMMITMENT,
    SP_RATE_P5,
)
from atlas_pipeline.sample_estate.azure_cost_details import (
    BILLING_ACCOUNT_ID as AZURE_ACCOUNT,
)
from atlas_pipeline.sample_estate.azure_cost_details import (
    HEADER,
    RI_HOURLY_RATE,
    RI_MONTHLY_PAYMENT,
)
from atlas_pipeline.sample_estate.estate import EstateSummary, generate_billing
from atlas_pipeline.sample_estate.gcp_billing import BILLING_ACCOUNT_ID as GCP_ACCOUNT
from atlas_pipeline.sample_estate.spec import PROJECTS, TEAMS, EstateSpec

SPEC = EstateSpec(seed=7, start_month=date(2026, 8, 1), months=2, line_items_per_month=2000)
PERIODS = ["2026-08", "2026-09"]
HOURS = {"2026-08": 31 * 24, "2026-09": 30 * 24}
SAMPLE_AZURE = Path(__file__).parents[1] / "fixtures" / "billing" / "azure_ea_costdetails_anonymized.csv"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, EstateSummary]:
    out = tmp_path_factory.mktemp("estate")
    return out, generate_billing(out, SPEC)


def _d(value: float) -> Decimal:
    return Decimal(repr(value))


def _aws_rows(out: Path, period: str) -> list[dict]:
    folder = out / "aws" / "atlas-cur2" / "data" / f"BILLING_PERIOD={period}"
    tables = [pq.read_table(p) for p in sorted(folder.glob("*.parquet"))]
    return pa.concat_tables(tables).to_pylist()


def _gcp_rows(out: Path, period: str) -> list[dict]:
    path = out / layout.gcp_billing_file(date.fromisoformat(period + "-01"), GCP_ACCOUNT)
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f]


def _azure_rows(out: Path, export: str, period: str) -> list[dict]:
    start = date.fromisoformat(period + "-01")
    run_dirs = list((out / layout.azure_export_dir(export) / layout.azure_date_range(start)).iterdir())
    assert len(run_dirs) == 1
    rows: list[dict] = []
    for part in sorted(run_dirs[0].glob("part_*.csv")):
        with part.open(newline="") as f:
            rows.extend(csv.DictReader(f))
    return rows


def test_same_seed_and_spec_give_byte_identical_files(estate, tmp_path: Path) -> None:
    out, summary = estate
    again = generate_billing(tmp_path, SPEC)
    first = {p.relative_to(out): hashlib.sha256(p.read_bytes()).hexdigest() for p in summary.files}
    second = {p.relative_to(tmp_path): hashlib.sha256(p.read_bytes()).hexdigest() for p in again.files}
    assert first == second
    assert again.billed_cost == summary.billed_cost
    assert again.amortized_cost == summary.amortized_cost


def test_files_follow_each_providers_layout(estate) -> None:
    out, summary = estate
    rel = {p.relative_to(out).as_posix() for p in summary.files}
    guid = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    for period in PERIODS:
        assert f"aws/atlas-cur2/data/BILLING_PERIOD={period}/atlas-cur2-00001.snappy.parquet" in rel
        assert f"aws/atlas-cur2/metadata/BILLING_PERIOD={period}/atlas-cur2-Manifest.json" in rel
        assert (
            f"gcp/atlas-billing/{period}/gcp_billing_export_v1_{GCP_ACCOUNT.replace('-', '_')}-000000000000.jsonl.gz" in rel
        )
        compact = period.replace("-", "")
        last = "31" if period == "2026-08" else "30"
        for export in ("atlas-actual", "atlas-amortized"):
            pattern = re.compile(
                rf"azure/costexports/atlas/{export}/{compact}01-{compact}{last}/({guid})/(part_1_0001\.csv|manifest\.json)"
            )
            matches = [m for m in map(pattern.fullmatch, rel) if m]
            assert {m.group(2) for m in matches} == {"part_1_0001.csv", "manifest.json"}
            assert len({m.group(1) for m in matches}) == 1  # one run folder per export and month
    assert all((out / r).is_file() for r in rel)


def test_manifests_describe_their_deliveries(estate) -> None:
    out, _ = estate
    manifest = json.loads((out / layout.aws_cur2_manifest_file(date(2026, 8, 1))).read_text())
    assert manifest["billingPeriod"] == {"start": "2026-08-01T00:00:00.000Z", "end": "2026-09-01T00:00:00.000Z"}
    assert [f.rsplit("/", 1)[-1] for f in manifest["dataFiles"]] == ["atlas-cur2-00001.snappy.parquet"]
    assert [c["name"] for c in manifest["columns"]] == CUR2_SCHEMA.names
    assert manifest["executionId"]
    run_dir = (out / layout.azure_export_dir("atlas-actual") / "20260801-20260831").iterdir().__next__()
    azure = json.loads((run_dir / "manifest.json").read_text())
    assert azure["runInfo"]["runId"] == run_dir.name
    assert azure["exportConfig"]["type"] == "ActualCost"
    (blob,) = azure["blobs"]
    assert blob["blobName"] == f"atlas/atlas-actual/20260801-20260831/{run_dir.name}/part_1_0001.csv"
    assert blob["byteCount"] == (run_dir / "part_1_0001.csv").stat().st_size
    assert blob["dataRowCount"] == len(_azure_rows(out, "atlas-actual", "2026-08"))


def test_cur2_parquet_has_the_data_dictionary_columns_and_types(estate) -> None:
    out, _ = estate
    schema = pq.read_schema(out / layout.aws_cur2_data_file(date(2026, 8, 1)))
    assert schema.equals(CUR2_SCHEMA)
    names = set(schema.names)
    for required in (
        "bill_bill_type", "bill_billing_entity", "bill_billing_period_start_date", "bill_billing_period_end_date",
        "bill_invoice_id", "bill_invoicing_entity", "bill_payer_account_id", "bill_payer_account_name",
        "identity_line_item_id", "identity_time_interval", "line_item_line_item_type", "line_item_unblended_cost",
        "line_item_usage_start_date", "line_item_usage_end_date", "line_item_resource_id", "line_item_usage_amount",
        "product_instance_type", "product_region_code", "product_servicecode", "product_product_family",
        "pricing_public_on_demand_cost", "savings_plan_savings_plan_effective_cost", "savings_plan_savings_plan_a_r_n",
        "reservation_effective_cost", "resource_tags", "product", "cost_category", "discount",
    ):  # fmt: skip
        assert required in names, required
    assert schema.field("resource_tags").type == pa.map_(pa.string(), pa.string())
    assert schema.field("line_item_unblended_cost").type == pa.float64()
    assert schema.field("line_item_usage_start_date").type == pa.timestamp("us", tz="UTC")


def test_cur2_lines_are_tagged_like_the_organisation(estate) -> None:
    out, _ = estate
    rows = [r for r in _aws_rows(out, "2026-08") if r["line_item_line_item_type"] == "Usage"]
    tags_by_resource = {r["line_item_resource_id"]: dict(r["resource_tags"]) for r in rows if r["line_item_resource_id"]}
    untagged = sum(1 for tags in tags_by_resource.values() if not tags)
    assert 0.02 < untagged / len(tags_by_resource) < 0.25
    for tags in tags_by_resource.values():
        if tags:
            assert set(tags) == {"user_team", "user_project", "user_env"}
            assert tags["user_team"] in TEAMS and tags["user_project"] == PROJECTS[tags["user_team"]]
    for r in rows:
        start, end = r["line_item_usage_start_date"], r["line_item_usage_end_date"]
        assert (end - start).total_seconds() == 3600
        assert r["identity_time_interval"] == f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}"
    assert {r["line_item_product_code"] for r in rows} >= {"AmazonEC2", "AmazonS3", "AmazonRDS", "AmazonCloudWatch"}


def test_gpu_hosts_bill_one_line_per_hour(estate) -> None:
    out, _ = estate
    for period in PERIODS:
        hours = HOURS[period]
        aws = Counter(
            r["line_item_resource_id"]
            for r in _aws_rows(out, period)
            if r["line_item_line_item_type"] in ("Usage", "SavingsPlanCoveredUsage")
            and r["product_instance_type"] == "p5.48xlarge"
        )
        aws_hosts = [h for h in SPEC.fleet if h.provider == "aws"]
        assert aws == {h.resource_id: hours for h in aws_hosts}
        gcp = Counter(
            (r["resource"]["global_name"], r["sku"]["description"])
            for r in _gcp_rows(out, period)
            if r["resource"] and r["resource"]["name"].startswith("gcp-a3")
        )
        assert len(gcp) == 3 and set(gcp.values()) == {hours}  # GPUs, A3 cores, A3 RAM
        gcp_host = next(h for h in SPEC.fleet if h.provider == "gcp")
        assert {g for g, _ in gcp} == {f"//compute.googleapis.com/{gcp_host.resource_id}"}
        # Azure cost details are daily: one row per day, 24 hours each.
        azure_host = next(h for h in SPEC.fleet if h.provider == "azure")
        azure = [
            r
            for r in _azure_rows(out, "atlas-actual", period)
            if r["ResourceId"] == azure_host.resource_id and r["ChargeType"] == "Usage"
        ]
        assert len(azure) == hours // 24 and {r["Quantity"] for r in azure} == {"24"}
        assert all('"team": "ml-research"' in r["Tags"] for r in azure)


def test_savings_plan_lines_follow_aws_semantics(estate) -> None:
    out, _ = estate
    rows = _aws_rows(out, "2026-08")
    covered = {
        r["line_item_usage_start_date"]: r for r in rows if r["line_item_line_item_type"] == "SavingsPlanCoveredUsage"
    }
    negation = {r["line_item_usage_start_date"]: r for r in rows if r["line_item_line_item_type"] == "SavingsPlanNegation"}
    fees = [r for r in rows if r["line_item_line_item_type"] == "SavingsPlanRecurringFee"]
    assert len(covered) == len(negation) == len(fees) == HOURS["2026-08"]
    for hour, line in covered.items():
        assert _d(line["line_item_unblended_cost"]) == _d(P5_ON_DEMAND_RATE)
        assert _d(line["savings_plan_savings_plan_effective_cost"]) == _d(SP_RATE_P5)
        assert _d(negation[hour]["line_item_unblended_cost"]) == -_d(line["line_item_unblended_cost"])
        assert negation[hour]["line_item_resource_id"] == line["line_item_resource_id"]
        assert negation[hour]["savings_plan_savings_plan_a_r_n"] == line["savings_plan_savings_plan_a_r_n"]
    assert sum(_d(r["line_item_unblended_cost"]) for r in list(covered.values()) + list(negation.values())) == 0
    for fee in fees:
        assert _d(fee["line_item_unblended_cost"]) == _d(SP_HOURLY_COMMITMENT)
        assert _d(fee["savings_plan_total_commitment_to_date"]) == _d(SP_HOURLY_COMMITMENT)
        assert _d(fee["savings_plan_used_commitment"]) == _d(SP_RATE_P5)
    assert any(r["line_item_line_item_type"] == "Credit" and r["line_item_unblended_cost"] < 0 for r in rows)
    assert any(r["line_item_line_item_type"] == "Tax" and r["line_item_unblended_cost"] > 0 for r in rows)


def _aws_amortized(r: dict) -> Decimal:
    kind = r["line_item_line_item_type"]
    if kind == "SavingsPlanCoveredUsage":
        return _d(r["savings_plan_savings_plan_effective_cost"])
    if kind == "SavingsPlanRecurringFee":
        return _d(r["savings_plan_total_commitment_to_date"]) - _d(r["savings_plan_used_commitment"])
    if kind in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
        return Decimal(0)
    if kind == "DiscountedUsage":
        return _d(r["reservation_effective_cost"])
    if kind == "RIFee":
        return _d(r["reservation_unused_amortized_upfront_fee_for_billing_period"]) + _d(
            r["reservation_unused_recurring_fee"]
        )
    if kind == "Fee" and r["reservation_reservation_a_r_n"]:
        return Decimal(0)
    return _d(r["line_item_unblended_cost"])


def test_reserved_instance_lines_follow_aws_semantics(estate) -> None:
    """Partial Upfront RI: the upfront Fee once, DiscountedUsage at 0 billed, one RIFee a month with
    the unused hours; so the month's amortized cost differs from its billed cost."""
    out, summary = estate
    first = _aws_rows(out, "2026-08")
    fees = [r for r in first if r["line_item_line_item_type"] == "Fee"]
    assert len(fees) == 1 and _d(fees[0]["line_item_unblended_cost"]) > 0
    used = [r for r in first if r["line_item_line_item_type"] == "DiscountedUsage"]
    assert used and all(_d(r["line_item_unblended_cost"]) == 0 for r in used)
    assert {_d(r["reservation_effective_cost"]) for r in used} == {Decimal("0.9")}
    (ri_fee,) = [r for r in first if r["line_item_line_item_type"] == "RIFee"]
    hours = 31 * 24
    assert _d(ri_fee["line_item_usage_amount"]) == hours
    assert _d(ri_fee["reservation_unused_quantity"]) == hours - len(used) > 0
    assert _d(ri_fee["line_item_unblended_cost"]) == Decimal("0.4") * hours
    key = ("aws", PAYER_ACCOUNT_ID, "2026-08")
    assert summary.billed_cost[key] != summary.amortized_cost[key]
    later = _aws_rows(out, "2026-09")
    assert not [r for r in later if r["line_item_line_item_type"] == "Fee"]


def test_summary_totals_equal_totals_recomputed_from_the_files(estate) -> None:
    out, summary = estate
    expected_billed, expected_amortized = {}, {}
    for period in PERIODS:
        aws = _aws_rows(out, period)
        for r in aws:
            assert len(repr(r["line_item_unblended_cost"]).split(".")[-1]) <= 8 or "e" in repr(r["line_item_unblended_cost"])
        expected_billed[("aws", PAYER_ACCOUNT_ID, period)] = sum(_d(r["line_item_unblended_cost"]) for r in aws)
        expected_amortized[("aws", PAYER_ACCOUNT_ID, period)] = sum(_aws_amortized(r) for r in aws)
        gcp = _gcp_rows(out, period)
        gcp_total = sum(_d(r["cost"]) + sum(_d(c["amount"]) for c in r["credits"]) for r in gcp)
        expected_billed[("gcp", GCP_ACCOUNT, period)] = gcp_total
        expected_amortized[("gcp", GCP_ACCOUNT, period)] = gcp_total
        expected_billed[("azure", AZURE_ACCOUNT, period)] = sum(
            Decimal(r["CostInBillingCurrency"]) for r in _azure_rows(out, "atlas-actual", period)
        )
        expected_amortized[("azure", AZURE_ACCOUNT, period)] = sum(
            Decimal(r["CostInBillingCurrency"]) for r in _azure_rows(out, "atlas-amortized", period)
        )
    assert summary.billed_cost == expected_billed
    assert summary.amortized_cost == expected_amortized
    assert all(v > 0 for v in expected_billed.values())


def test_gcp_lines_are_bigquery_json_with_nested_credits(estate) -> None:
    out, _ = estate
    rows = _gcp_rows(out, "2026-08")
    stamp = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC")
    credit_types = Counter()
    for r in rows:
        assert isinstance(r["credits"], list) and isinstance(r["labels"], list)
        assert stamp.fullmatch(r["usage_start_time"]) and stamp.fullmatch(r["export_time"])
        assert r["invoice"] == {"month": "202608"} and r["billing_account_id"] == GCP_ACCOUNT
        assert round(r["cost"], 6) == r["cost"]
        for c in r["credits"]:
            assert set(c) == {"name", "amount", "full_name", "id", "type"} and c["amount"] < 0
            credit_types[c["type"]] += 1
    assert set(credit_types) == {"SUSTAINED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT", "PROMOTION"}
    assert {r["cost_type"] for r in rows} == {"regular", "tax"}
    labelled = [r for r in rows if r["labels"]]
    assert all({kv["key"] for kv in r["labels"]} == {"team", "project", "env"} for r in labelled)
    assert len(labelled) < len(rows)


def test_azure_exports_mirror_the_ea_cost_details_format(estate) -> None:
    out, _ = estate
    actual = _azure_rows(out, "atlas-actual", "2026-08")
    amortized = _azure_rows(out, "atlas-amortized", "2026-08")
    part = next((out / layout.azure_export_dir("atlas-actual") / "20260801-20260831").iterdir()) / "part_1_0001.csv"
    header = part.read_text().split("\n", 1)[0]
    assert header.split(",") == list(HEADER)
    assert header == SAMPLE_AZURE.read_text().splitlines()[0]
    assert all(re.fullmatch(r"08/\d{2}/2026", r["Date"]) for r in actual)
    assert {r["BillingPeriodStartDate"] for r in actual} == {"08/01/2026"}
    assert {r["BillingPeriodEndDate"] for r in actual} == {"08/31/2026"}
    assert {r["BillingCurrencyCode"] for r in actual} == {"USD"}
    for r in actual:
        assert re.fullmatch(r"-?\d+(\.\d{1,8})?", r["CostInBillingCurrency"]), r["CostInBillingCurrency"]
        if r["Tags"]:
            assert re.fullmatch(r'"team": "[a-z-]+","project": "[a-z-]+","env": "[a-z]+"', r["Tags"])
    purchase = [r for r in actual if r["ChargeType"] == "Purchase"]
    assert len(purchase) == 1 and purchase[0]["PricingModel"] == "Reservation"
    assert Decimal(purchase[0]["CostInBillingCurrency"]) == _d(RI_MONTHLY_PAYMENT)
    reserved = [r for r in actual if r["PricingModel"] == "Reservation" and r["ChargeType"] == "Usage"]
    assert reserved and {Decimal(r["CostInBillingCurrency"]) for r in reserved} == {Decimal(0)}
    purchase_amortized = [r for r in amortized if r["ChargeType"] == "Purchase"]
    assert [Decimal(r["CostInBillingCurrency"]) for r in purchase_amortized] == [Decimal(0)]
    reserved_amortized = [r for r in amortized if r["PricingModel"] == "Reservation" and r["ChargeType"] == "Usage"]
    assert {Decimal(r["CostInBillingCurrency"]) for r in reserved_amortized} == {24 * _d(RI_HOURLY_RATE)}
    # Everything else is the same in both datasets.
    on_demand = [r for r in actual if r["PricingModel"] == "OnDemand"]
    assert on_demand == [r for r in amortized if r["PricingModel"] == "OnDemand"]


def test_volume_scales_with_line_items_per_month(tmp_path: Path) -> None:
    small = EstateSpec(months=1, line_items_per_month=1000)
    large = EstateSpec(months=1, line_items_per_month=4000)
    a = generate_billing(tmp_path / "small", small).row_counts
    b = generate_billing(tmp_path / "large", large).row_counts
    # fixed lines per month (approx.); AWS: GPU + Savings Plan lines, RI hours (92 % of 744) + fees
    gpu_aws, gpu_gcp, gpu_azure = 4 * 744 + 31 + 6 + 686 + 2, 3 * 744 + 40, 31 + 1
    for kind, share, fixed in (
        ("aws_cur2", 0.5, gpu_aws),
        ("gcp_billing", 0.25, gpu_gcp),
        ("azure_actual", 0.25, gpu_azure),
    ):
        grown = b[kind] - a[kind]
        assert grown == pytest.approx(3000 * share, rel=0.05), kind
        assert a[kind] >= 1000 * share and a[kind] == pytest.approx(1000 * share + fixed, rel=0.1), kind


def test_cli_builds_the_spec_and_prints_one_line_per_provider(tmp_path: Path, monkeypatch, capsys) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    args = parser.parse_args(["--seed", "3", "--start", "2025-12", "--months", "2", "--line-items-per-month", "500"])
    spec = spec_from_args(args)
    assert (spec.seed, spec.start_month, spec.months, spec.line_items_per_month) == (3, date(2025, 12, 1), 2, 500)
    assert [p.isoformat() for p in spec.billing_periods] == ["2025-12-01", "2026-01-01"]

    import atlas_pipeline.sample_estate.telemetry as telemetry

    monkeypatch.setattr(telemetry, "generate_telemetry", lambda out_dir, spec: [])
    assert main(["--out", str(tmp_path), "--months", "1", "--line-items-per-month", "200"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["aws", "gcp", "azure", "gpu"]
    assert (tmp_path / "aws" / "atlas-cur2" / "data" / "BILLING_PERIOD=2026-08").is_dir()
