"""The FOCUS 1.2 specification's SaaS scenarios, reproduced end to end.

Each scenario file (tests/fixtures/billing/focus_spec_v1.2_scenarios/saas_examples__*.csv,
unchanged from the spec) is what a SaaS vendor would deliver already in FOCUS form: token
purchases and consumption (virtual currency), spend agreements billed in arrears or prepaid,
simple license and usage agreements. Each file is delivered as the `saas_focus` source expects
(saas/focus/<vendor>/<YYYY-MM>/, its rows split by billing period, every line's text unchanged),
landed by the real landing code under the real file contract, and built by the real staging and
intermediate dbt models. The FOCUS rows that come out must be the spec's rows: charge semantics,
periods, every cost and quantity exactly (so to the cent), and Σ BilledCost / Σ EffectiveCost per
file equal to the file's own sums.

The spec's samples are spreadsheet exports: dates are US `5/1/25`, the simple agreements write
money as `"$10,000.00 "`. A second copy of every file, rewritten the way a vendor's system would
write it (ISO 8601 timestamps, plain decimals), must give identical rows.
"""

from __future__ import annotations

import csv
import os
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import open_store
from atlas_pipeline.lib.ingest.sources import parse_source
from atlas_pipeline.lib.settings import CHECKS_DIR, DECLARATIONS_DIR

pytestmark = pytest.mark.dbt

SCENARIOS = Path(__file__).parents[1] / "fixtures" / "billing" / "focus_spec_v1.2_scenarios"  # also saas_scenarios.folder
STEMS = sorted(p.stem for p in SCENARIOS.glob("saas_examples__*.csv"))
SOURCE = parse_source(DECLARATIONS_DIR / "sources" / "saas_focus.yaml")
# The other FOCUS-file inputs int_focus_exports__line_items unions: absent here, so empty raw views.
ABSENT_FOCUS_SOURCES = [parse_source(DECLARATIONS_DIR / "sources" / f"{name}.yaml") for name in ("aws_focus", "azure_focus")]
ISO_VENDOR = "iso-"  # vendor folder prefix of the ISO / plain-decimal rewrite

MONEY = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice", "ContractedUnitPrice",
         "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice")
QUANTITIES = ("ConsumedQuantity", "PricingQuantity", "CommitmentDiscountQuantity")
TIMES = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
TEXT = ("ChargeCategory", "ChargeClass", "ChargeFrequency", "PricingCategory", "ChargeDescription",
        "BillingAccountId", "BillingAccountName", "BillingCurrency", "ConsumedUnit", "PricingUnit", "PricingCurrency",
        "ProviderName", "PublisherName", "InvoiceIssuerName", "ResourceId", "ResourceName", "ResourceType",
        "ServiceName", "SkuId", "SkuPriceId", "CommitmentDiscountId")
COMPARED = TEXT + MONEY + QUANTITIES + TIMES


def _rows(stem: str) -> list[dict[str, str]]:
    with open(SCENARIOS / f"{stem}.csv", newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _text(text: str | None) -> str | None:
    return (text or "").strip() or None


def _expected(saas_scenarios, row: dict[str, str]) -> tuple:
    values = []
    for name in COMPARED:
        raw = row.get(name)
        values.append(saas_scenarios.money(raw) if name in MONEY + QUANTITIES
                      else saas_scenarios.spec_time(raw) if name in TIMES else _text(raw))
    return tuple(values)


def _deliver_iso(saas_scenarios, exports: Path, stem: str) -> None:
    """The same rows as a vendor's system writes them: ISO 8601 UTC timestamps, plain decimals."""
    rows = _rows(stem)
    periods = [saas_scenarios.billing_period(r["BillingPeriodStart"]) for r in rows]
    for row in rows:
        for name in TIMES:
            if _text(row.get(name)):
                row[name] = saas_scenarios.spec_time(row[name]).strftime("%Y-%m-%dT%H:%M:%SZ")
        for name in MONEY + QUANTITIES:
            if _text(row.get(name)):
                row[name] = str(saas_scenarios.money(row[name]))
    for period in set(periods):
        folder = exports / f"{ISO_VENDOR}{stem}" / period
        folder.mkdir(parents=True)
        with open(folder / f"{stem}.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(r for r, p in zip(rows, periods, strict=True) if p == period)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, dbt, saas_scenarios) -> Path:
    root = tmp_path_factory.mktemp("saas_scenarios")
    exports = root / "exports"
    vendors = exports / "saas" / "focus"
    for stem in STEMS:
        saas_scenarios.deliver(vendors, stem)
        _deliver_iso(saas_scenarios, vendors, stem)
    db = root / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    old = dict(os.environ)
    os.environ["ATLAS_EXPORTS"] = str(exports)
    try:
        con.execute("create schema if not exists raw")
        report = land_source(con, SOURCE, open_store(SOURCE.resolved_location()), root / "landing", root / "quarantine")
        assert not report.quarantined, report.quarantined
        refresh_raw_view(con, SOURCE)
        for absent in ABSENT_FOCUS_SOURCES:
            refresh_raw_view(con, absent)
    finally:
        os.environ.clear()
        os.environ.update(old)
        con.close()
    result = dbt(db, root, "build", "--select", "+int_focus_exports__focus_line_items", "--indirect-selection", "cautious")
    assert result.returncode == 0, result.stdout[-4000:]
    return db


@pytest.fixture(scope="module")
def focus_rows(warehouse: Path, fetch_rows) -> dict[str, list[dict]]:
    """SaaS FOCUS rows of int_focus_exports__focus_line_items by delivered file: `<stem>` or `iso-<stem>`."""
    out: dict[str, list[dict]] = defaultdict(list)
    sql = "select * from intermediate.int_focus_exports__focus_line_items where x_source = 'saas_focus'"
    for row in fetch_rows(warehouse, sql):
        # The landed file name is the flattened key <vendor>__<period>__<stem>.csv.
        out[Path(row["x_source_file"]).name.split("__20")[0]].append(row)
    return out


def test_every_scenario_file_is_covered() -> None:
    assert len(STEMS) == 15  # 5 simple agreements, 4 spend agreements, 6 virtual-currency (token) files


@pytest.mark.parametrize("stem", STEMS)
def test_spec_rows_come_out_as_delivered(focus_rows, stem: str, saas_scenarios) -> None:
    """Every row of the spec file, and nothing else: semantics, periods, costs and quantities exact."""
    want = Counter(_expected(saas_scenarios, r) for r in _rows(stem))
    got = Counter(tuple(r[name] for name in COMPARED) for r in focus_rows[stem])
    assert got == want


@pytest.mark.parametrize("stem", STEMS)
def test_billed_and_effective_cost_reconcile_to_the_file(focus_rows, stem: str, saas_scenarios) -> None:
    rows = _rows(stem)
    billed = sum(saas_scenarios.money(r["BilledCost"]) for r in rows)
    effective = sum(saas_scenarios.money(r["EffectiveCost"]) for r in rows)
    assert sum(r["BilledCost"] for r in focus_rows[stem]) == billed
    assert sum(r["EffectiveCost"] for r in focus_rows[stem]) == effective


@pytest.mark.parametrize("stem", STEMS)
def test_iso_timestamps_and_plain_decimals_give_the_same_rows(focus_rows, stem: str) -> None:
    """A real vendor file (ISO 8601, plain decimals) and the spec's spreadsheet spelling agree."""
    lineage = {"x_source_file", "x_export_version"}
    spreadsheet = Counter(tuple(v for k, v in sorted(r.items()) if k not in lineage) for r in focus_rows[stem])
    iso = Counter(tuple(v for k, v in sorted(r.items()) if k not in lineage) for r in focus_rows[ISO_VENDOR + stem])
    assert iso == spreadsheet and sum(spreadsheet.values()) == len(_rows(stem))


def test_us_dates_are_month_first(focus_rows) -> None:
    """`5/1/25` is 1 May 2025 (DuckDB's own cast would read it as year 5), and the row's billing
    period is the month folder it was delivered in."""
    [row] = focus_rows["saas_examples__simple_agreements__simple_saas_agreements_a1"]
    assert row["BillingPeriodStart"] == datetime(2025, 4, 1, tzinfo=UTC)
    assert row["BillingPeriodEnd"] == datetime(2025, 5, 1, tzinfo=UTC)
    assert row["ChargePeriodEnd"] == datetime(2026, 4, 1, tzinfo=UTC)
    assert row["BilledCost"] == Decimal("10000.00") and row["x_billing_period"] == "2025-04"
    periods = {r["x_billing_period"] for r in focus_rows["saas_examples__spend_agreements__saas_spend_agreements_a2"]}
    assert periods == {f"2025-{m:02d}" for m in range(4, 13)} | {"2026-01", "2026-02", "2026-03"}


def test_vendor_names_are_kept_and_fill_the_provider_columns(focus_rows) -> None:
    """ProviderName, PublisherName and InvoiceIssuerName as delivered; the vendor is also the
    FOCUS 1.3 ServiceProviderName and, not disclosing where it runs, the HostProviderName."""
    names = {(r["ProviderName"], r["PublisherName"], r["InvoiceIssuerName"], r["ServiceProviderName"],
              r["HostProviderName"], r["x_source"]) for rows in focus_rows.values() for r in rows}
    assert names == {("ACMECORP",) * 5 + ("saas_focus",), ("Acme Co",) * 5 + ("saas_focus",)}


def test_service_categories_are_kept_or_filled_as_focus_requires(focus_rows) -> None:
    """Delivered categories stay as delivered; rows without a ServiceCategory (the token files have
    no such column, the prepaid spend agreements leave it empty on the purchase) get FOCUS's
    catch-all `Other`, since FOCUS requires one. The spend-agreement scenarios write `Database` /
    `No-SQL DB`, which are not FOCUS values (`Databases` / `NoSQL Databases`): Atlas keeps them, and
    the blocking mart test `focus_service_subcategory_is_allowed` reports them."""
    categories = defaultdict(set)
    for stem in STEMS:
        group = "virtual_currency" if "virtual_currency" in stem else stem.split("__")[1]
        categories[group] |= {(r["ServiceCategory"], r["ServiceSubcategory"]) for r in focus_rows[stem]}
    assert categories == {
        "simple_agreements": {("Business Applications", "Other (Business Applications)")},
        "spend_agreements": {("Database", "No-SQL DB"), ("Other", "Other (Other)")},
        "virtual_currency": {("Other", "Other (Other)")},
    }


def test_staging_suite_passes_on_the_scenarios(warehouse: Path) -> None:
    """The GX suite of stg_saas__focus_cost sees rows only here and in the real-samples test."""
    from atlas_pipeline.lib.quality.expectations import fetch_frame, load_suites, validate

    [suite] = [s for s in load_suites(CHECKS_DIR) if s.asset == ("stg_saas__focus_cost",)]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        outcome = validate(suite, fetch_frame(con, suite))
    finally:
        con.close()
    assert outcome.rows == 2 * sum(len(_rows(s)) for s in STEMS)
    assert outcome.success, outcome.failures_markdown()
