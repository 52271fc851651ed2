"""The real public billing samples (tests/fixtures/billing/, see its README) load through the
declared sources and the real landing code, map through every staging and intermediate model, and
land in focus_cost_and_usage exact to the cent, next to a small generated estate.

Layout: each sample is placed where its source declaration (assets/sources/*.yaml) expects its
provider to deliver it; the FOCUS 1.0 sample is split by ProviderName into an AWS FOCUS export
(parquet) and an Azure FOCUS export (CSV); its 7 Oracle rows have no Atlas input and are left out.
The FOCUS spec's SaaS scenarios arrive as SaaS vendors' FOCUS files (saas_focus), split by billing
period (the `saas_scenarios` fixture, tests/dbt/conftest.py), except the spend agreements, which are not valid FOCUS
(SAAS_SCENARIOS_NOT_FOCUS): they are reproduced in tests/dbt/test_focus_spec_saas_scenarios.py.
Totals asserted here are computed in Python with Decimal straight from the files.
"""

from __future__ import annotations

import ast
import csv
import os
import shutil
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import open_store
from atlas_pipeline.lib.ingest.sources import load_sources
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.sample_estate import EstateSpec
from atlas_pipeline.sample_estate.estate import generate_billing

pytestmark = pytest.mark.dbt

FIXTURES = Path(__file__).parents[1] / "fixtures" / "billing"
CENT = Decimal("0.01")
SCENARIOS = Path(__file__).parents[1] / "fixtures" / "billing" / "focus_spec_v1.2_scenarios"
# The spec's spend-agreement scenarios write ServiceCategory "Database" / ServiceSubcategory
# "No-SQL DB" (FOCUS: "Databases" / "NoSQL Databases"), and their prepaid purchases have no
# ServiceName, which FOCUS requires: the mart's blocking tests reject them, as they should a
# vendor's file like that.
SAAS_SCENARIOS_NOT_FOCUS = "saas_examples__spend_agreements__"
SAAS_STEMS = sorted(p.stem for p in SCENARIOS.glob("saas_examples__*.csv") if SAAS_SCENARIOS_NOT_FOCUS not in p.stem)


def _rows(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / name, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _d(text: str | None) -> Decimal:
    """A money text as Atlas stores it: DECIMAL(38, 12), so rounded to 12 places (half away from 0)."""
    if text in (None, "", "NULL", "None"):
        return Decimal(0)
    return Decimal(text).quantize(Decimal("1e-12"), rounding=ROUND_HALF_UP)


def _place(saas_scenarios, exports: Path) -> None:
    """Put each sample where its provider delivers it (the declared layout)."""
    legacy = exports / "aws/atlas-cur-legacy/20231101-20231201/20231115T0300Z-assembly"
    legacy.mkdir(parents=True)
    shutil.copy(FIXTURES / "aws_legacy_cur_2023-11_anonymized.csv", legacy / "report-00001.csv")
    for period, name in (
        ("2022-08", "gcp_billing_export_resource_2022-08_anonymized.csv"),
        ("2020-11", "gcp_billing_export_standard_2020-11_anonymized.csv"),
    ):
        folder = exports / "gcp/atlas-billing-detailed" / period
        folder.mkdir(parents=True)
        shutil.copy(FIXTURES / name, folder / name)
    for export, ea_file in (("atlas-actual", "azure_ea_actualcost_2023-09.csv"),
                            ("atlas-amortized", "azure_ea_amortizedcost_2023-09.csv")):
        run = exports / "azure/costexports/atlas" / export / "20230901-20230930/run-2023-10-02"
        run.mkdir(parents=True)
        shutil.copy(FIXTURES / ea_file, run / "part_0_0001.csv")
        # On-demand and Spot only: the same rows in both views.
        shutil.copy(FIXTURES / "azure_ea_costdetails_anonymized.csv", run / "part_1_0001.csv")
    focus = _rows("focus_1.0_sample_1000rows.csv")
    aws_focus = [r for r in focus if r["ProviderName"] == "AWS"]
    table = pa.table({k: pa.array([r[k] for r in aws_focus], pa.string()) for k in aws_focus[0]})
    aws_dir = exports / "aws/atlas-focus/data/BILLING_PERIOD=2024-09"
    aws_dir.mkdir(parents=True)
    pq.write_table(table, aws_dir / "focus-00001.snappy.parquet")
    azure_dir = exports / "azure/costexports/atlas/atlas-focus/20240901-20240930/run-1"
    azure_dir.mkdir(parents=True)
    with open(azure_dir / "part_0_0001.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(focus[0]))
        writer.writeheader()
        writer.writerows(r for r in focus if r["ProviderName"] == "Microsoft")
    for stem in SAAS_STEMS:
        saas_scenarios.deliver(exports / "saas/focus", stem)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, dbt, saas_scenarios) -> Path:
    root = tmp_path_factory.mktemp("real_samples")
    exports = root / "exports"
    generate_billing(exports, EstateSpec(seed=3, start_month=date(2026, 8, 1), months=1, line_items_per_month=400))
    _place(saas_scenarios, exports)
    db = root / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    env = {**os.environ, "ATLAS_EXPORTS": str(exports)}
    old = dict(os.environ)
    os.environ.update(env)
    try:
        con.execute("create schema if not exists raw")
        for source in load_sources(DECLARATIONS_DIR / "sources"):
            if source.provider not in ("aws", "gcp", "azure", "saas"):
                continue
            report = land_source(con, source, open_store(source.resolved_location()), root / "landing",
                                 root / "quarantine")
            assert not report.quarantined, (source.name, report.quarantined)
            refresh_raw_view(con, source)
    finally:
        os.environ.clear()
        os.environ.update(old)
        con.close()
    # The spec's SaaS scenarios virtual_currency_pricing_model_b2 and _b3 describe the same token
    # charges two ways: delivered side by side, their shared lines are (rightly) duplicates.
    result = dbt(
        db, root, "build", "--select", "+focus_cost_and_usage", "focus_service_subcategories", "billing_cost_reconciliation",
        "--indirect-selection", "cautious", "--exclude", "assert_effective_cost_reconciles_to_amortized",
        "assert_no_billing_line_in_two_files", env=env,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    (root / "dbt_effective.log").write_text("")
    return db


def _focus(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _totals(db: Path, x_source: str) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    rows = _focus(db, f"""
        select "BillingAccountId", x_billing_period, sum("BilledCost"), sum("EffectiveCost")
        from main.focus_cost_and_usage where x_source = '{x_source}' group by all""")
    return {(a, p): (b, e) for a, p, b, e in rows}


def test_legacy_cur_reconciles_and_maps_tax(warehouse: Path) -> None:
    rows = _rows("aws_legacy_cur_2023-11_anonymized.csv")
    billed = sum(_d(r["lineItem/UnblendedCost"]) for r in rows)
    assert _totals(warehouse, "aws_cur_legacy") == {("123412340534", "2023-11"): (billed, billed)}
    # reconciled per source: the legacy CUR's cents are not netted against CUR 2.0's (both map
    # through one FOCUS model, int_aws__focus_line_items)
    reconciled = _focus(warehouse, """select billing_input, billing_account_id, billing_period, invoice_cost, billed_cost
        from main.billing_cost_reconciliation where billing_input like 'aws_cur%' order by 1""")
    assert [r[:3] for r in reconciled] == [("aws_cur2", "210987654321", "2026-08"),
                                           ("aws_cur_legacy", "123412340534", "2023-11")]
    assert reconciled[1][3:] == (billed, billed)
    categories = dict(_focus(warehouse, """select "ChargeCategory", count(*) from main.focus_cost_and_usage
        where x_source = 'aws_cur_legacy' group by 1"""))
    assert categories == {"Usage": 1269, "Tax": 12}
    services = set(_focus(warehouse, """select x_provider_line_type, "ServiceName", "ServiceCategory",
            "ServiceSubcategory" from main.focus_cost_and_usage
        where x_source = 'aws_cur_legacy' and "SkuMeter" is not null
            and "ServiceName" in ('AWS Glue', 'AWS Key Management Service')
        group by all"""))
    assert services == {("Usage", "AWS Glue", "Analytics", "Data Processing"),
                        ("Usage", "AWS Key Management Service", "Security", "Secret Management")}


def test_gcp_csv_exports_keep_every_credit(warehouse: Path) -> None:
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    credit_rows = 0
    for name in ("gcp_billing_export_resource_2022-08_anonymized.csv",
                 "gcp_billing_export_standard_2020-11_anonymized.csv"):
        for r in _rows(name):
            credits = ast.literal_eval(r["credits"] or "[]")
            credit_rows += len(credits)
            period = f"{r['invoice.month'][:4]}-{r['invoice.month'][4:]}"
            expected[(r["billing_account_id"], period)] += _d(r["cost"]) + sum(
                _d(repr(c["amount"])) for c in credits)
    got = _totals(warehouse, "gcp_billing_detailed")
    assert {k: b for k, (b, _) in got.items()} == dict(expected)
    assert {k: e for k, (_, e) in got.items()} == dict(expected)
    (n,) = _focus(warehouse, """select count(*) from main.focus_cost_and_usage
        where x_source = 'gcp_billing_detailed' and "ChargeCategory" = 'Credit'""")[0]
    assert n == credit_rows > 0
    resources = _focus(warehouse, """select distinct "ResourceId", "ResourceName" from main.focus_cost_and_usage
        where x_source = 'gcp_billing_detailed' and x_billing_period = '2022-08'""")
    assert resources == [("//example", "instance-1")]


def test_azure_ea_exports_bill_and_amortize(warehouse: Path) -> None:
    actual = _rows("azure_ea_actualcost_2023-09.csv")
    amortized = _rows("azure_ea_amortizedcost_2023-09.csv")
    got = [_totals(warehouse, "azure_cost_details_actual"), _totals(warehouse, "azure_cost_details_amortized")]
    billed = sum(b for part in got for (a, _), (b, _) in part.items() if a == "8611537")
    assert billed == sum(_d(r["Cost"]) for r in actual)
    # The two files are separate slices (not one export run): Atlas takes the billed rows from the
    # actual view and only the commitment rows from the amortized view.
    effective = sum(e for part in got for (a, _), (_, e) in part.items() if a == "8611537")
    assert effective == sum(_d(r["Cost"]) for r in actual if r["ChargeType"] != "Purchase") + sum(
        _d(r["Cost"]) for r in amortized if r["PricingModel"] in ("Reservation", "SavingsPlan"))
    purchases = _focus(warehouse, """select "BilledCost", "EffectiveCost", "PricingCategory", "CommitmentDiscountType"
        from main.focus_cost_and_usage where "ChargeCategory" = 'Purchase' and "BillingAccountId" = '8611537'""")
    (purchase,) = [r for r in actual if r["ChargeType"] == "Purchase"]
    assert purchases == [(_d(purchase["Cost"]), 0, "Standard", "Reservation")]
    committed = _focus(warehouse, """select "CommitmentDiscountType", "BilledCost", "EffectiveCost"
        from main.focus_cost_and_usage where "BillingAccountId" = '8611537' and "PricingCategory" = 'Committed'
        order by 1""")
    assert committed == sorted(
        ("Reservation" if r["PricingModel"] == "Reservation" else "Savings Plan", 0, _d(r["Cost"]))
        for r in amortized if r["PricingModel"] in ("Reservation", "SavingsPlan"))


def test_azure_cad_costs_stay_in_cad_and_convert_at_the_dated_rate(warehouse: Path) -> None:
    rows = _rows("azure_ea_costdetails_anonymized.csv")
    cad = sum(_d(r["CostInBillingCurrency"]) for r in rows)
    got = _focus(warehouse, """select "BillingCurrency", sum("BilledCost"), sum("EffectiveCost"),
            min(x_fx_rate_date), sum(x_billed_cost_reporting), count(distinct "PricingCategory")
        from main.focus_cost_and_usage where "BillingAccountId" = '12345678' group by 1""")
    assert got[0][:4] == ("CAD", cad, cad, date(2023, 1, 1))
    assert got[0][4].quantize(CENT) == (cad * Decimal("0.74")).quantize(CENT) and got[0][5] == 2


def test_native_focus_exports_pass_through(warehouse: Path) -> None:
    rows = _rows("focus_1.0_sample_1000rows.csv")
    for x_source, provider, provider_name in (("aws_focus", "AWS", "Amazon Web Services"),
                                               ("azure_focus", "Microsoft", "Microsoft")):
        mine = [r for r in rows if r["ProviderName"] == provider]
        expected: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for r in mine:
            expected[(r["BillingAccountId"], "2024-09")][0] += _d(r["BilledCost"])
            expected[(r["BillingAccountId"], "2024-09")][1] += _d(r["EffectiveCost"])
        assert _totals(warehouse, x_source) == {k: tuple(v) for k, v in expected.items()}
        names = _focus(warehouse, f"""select distinct "ProviderName", "ChargeFrequency" from main.focus_cost_and_usage
            where x_source = '{x_source}' and "ChargeCategory" = 'Usage'""")
        assert names == [(provider_name, "Usage-Based")]


def test_saas_vendor_files_reach_the_focus_table_as_delivered(warehouse: Path, saas_scenarios) -> None:
    """Per vendor billing account and period, Σ BilledCost and Σ EffectiveCost are the files' own
    (the blocking reconciliation tests checked the same against staging); names stay the vendor's."""
    expected: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for stem in SAAS_STEMS:
        with open(SCENARIOS / f"{stem}.csv", newline="", encoding="utf-8-sig") as handle:
            for r in csv.DictReader(handle):
                start = r["BillingPeriodStart"].split("/")
                key = (r["BillingAccountId"], f"20{start[2]}-{int(start[0]):02d}")
                expected[key][0] += saas_scenarios.money(r["BilledCost"])
                expected[key][1] += saas_scenarios.money(r["EffectiveCost"])
    assert _totals(warehouse, "saas_focus") == {k: tuple(v) for k, v in expected.items()}
    names = _focus(warehouse, """select distinct "ProviderName", "ServiceProviderName", "HostProviderName"
        from main.focus_cost_and_usage where x_source = 'saas_focus'""")
    assert names == [("ACMECORP", "ACMECORP", "ACMECORP")]


def test_every_real_sample_reached_the_focus_table(warehouse: Path) -> None:
    sources = dict(_focus(warehouse, "select x_source, count(*) from main.focus_cost_and_usage group by 1"))
    for x_source in ("aws_cur2", "aws_cur_legacy", "aws_focus", "gcp_billing", "gcp_billing_detailed",
                     "azure_cost_details_actual", "azure_cost_details_amortized", "azure_focus", "saas_focus"):
        assert sources.get(x_source, 0) > 0, x_source


@pytest.mark.parametrize(
    "model",
    ["stg_aws__cur_legacy_line_items", "stg_aws__focus_line_items", "stg_azure__focus_cost",
     "stg_gcp__billing_detailed_line_items", "stg_saas__focus_cost"],
)
def test_optional_input_staging_suites_pass_on_the_real_samples(warehouse: Path, model: str) -> None:
    """The GX suites of the optional inputs see rows only here (the sample estate has none): each
    validates real rows and passes."""
    from atlas_pipeline.lib.quality.expectations import fetch_frame, load_suites, validate
    from atlas_pipeline.lib.settings import CHECKS_DIR

    [suite] = [s for s in load_suites(CHECKS_DIR) if s.asset == (model,)]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        outcome = validate(suite, fetch_frame(con, suite))
    finally:
        con.close()
    assert outcome.rows > 0
    assert outcome.success, outcome.failures_markdown()
