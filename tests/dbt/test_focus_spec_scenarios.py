"""The FOCUS 1.2 specification's commitment-discount scenarios, reproduced end to end.

Each scenario (tests/fixtures/billing/focus_spec_v1.2_scenarios/, unchanged from the spec) is
written as the AWS CUR 2.0 lines that describe the same purchase and usage, run through the real
staging and intermediate dbt models, and the FOCUS rows that come out are compared with the
spec's expected rows: per (ChargeCategory, ChargeFrequency, PricingCategory,
CommitmentDiscountStatus, ResourceId), Σ BilledCost and Σ EffectiveCost to the cent.

AWS writes Savings Plan coverage as two lines (covered usage at the On-Demand cost and a
SavingsPlanNegation that cancels it); Atlas keeps both (x_provider_line_type says which), so the
comparison is on sums per group, where the two lines add up to the spec's single row.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atlas_pipeline.lib.ingest.landing import refresh_raw_view
from atlas_pipeline.lib.ingest.raw_relations import landed_rows_sql
from atlas_pipeline.lib.ingest.sources import parse_source
from atlas_pipeline.lib.settings import DECLARATIONS_DIR

pytestmark = pytest.mark.dbt

SCENARIOS = Path(__file__).parents[1] / "fixtures" / "billing" / "focus_spec_v1.2_scenarios"
CDI = "<my-commitment-discount-id>"
START = "2023-01-01T00:00:00Z"

_COLUMNS = {
    "x_scenario": pa.string(),
    "identity_line_item_id": pa.string(),
    "bill_payer_account_id": pa.string(),
    "bill_billing_period_start_date": pa.timestamp("us", tz="UTC"),
    "bill_billing_period_end_date": pa.timestamp("us", tz="UTC"),
    "line_item_usage_account_id": pa.string(),
    "line_item_line_item_type": pa.string(),
    "line_item_usage_start_date": pa.timestamp("us", tz="UTC"),
    "line_item_usage_end_date": pa.timestamp("us", tz="UTC"),
    "line_item_product_code": pa.string(),
    "line_item_resource_id": pa.string(),
    "line_item_usage_amount": pa.float64(),
    "line_item_currency_code": pa.string(),
    "line_item_unblended_cost": pa.float64(),
    "line_item_line_item_description": pa.string(),
    "pricing_public_on_demand_cost": pa.float64(),
    "pricing_term": pa.string(),
    "pricing_unit": pa.string(),
    "reservation_reservation_a_r_n": pa.string(),
    "reservation_effective_cost": pa.float64(),
    "reservation_unused_quantity": pa.float64(),
    "reservation_unused_amortized_upfront_fee_for_billing_period": pa.float64(),
    "reservation_unused_recurring_fee": pa.float64(),
    "savings_plan_savings_plan_a_r_n": pa.string(),
    "savings_plan_savings_plan_effective_cost": pa.float64(),
    "savings_plan_total_commitment_to_date": pa.float64(),
    "savings_plan_used_commitment": pa.float64(),
}


def _hour(h: int) -> str:
    return f"2023-01-01T{h:02d}:00:00Z"


def ri_fee(cost: float, unused_recurring: float = 0.0, unused_upfront: float = 0.0, hour: int = 0) -> dict:
    """An RIFee line (the recurring part of a reservation) for one hour."""
    return dict(
        line_item_line_item_type="RIFee", line_item_unblended_cost=cost, line_item_usage_amount=1.0,
        line_item_usage_start_date=_hour(hour), line_item_usage_end_date=_hour(hour + 1),
        reservation_reservation_a_r_n=CDI, reservation_unused_quantity=1.0 if unused_recurring or unused_upfront else 0.0,
        reservation_unused_recurring_fee=unused_recurring,
        reservation_unused_amortized_upfront_fee_for_billing_period=unused_upfront,
    )


def ri_upfront(cost: float) -> dict:
    """The upfront Fee of a reservation, billed when it is bought."""
    return dict(
        line_item_line_item_type="Fee", line_item_unblended_cost=cost, line_item_usage_amount=1.0,
        line_item_usage_start_date=START, line_item_usage_end_date="2024-01-01T00:00:00Z",
        reservation_reservation_a_r_n=CDI,
    )


def ri_usage(resource: str, effective: float, on_demand: float, hour: int = 0) -> dict:
    """DiscountedUsage: an hour of `resource` covered by the reservation."""
    return dict(
        line_item_line_item_type="DiscountedUsage", line_item_unblended_cost=0.0, line_item_usage_amount=1.0,
        line_item_usage_start_date=_hour(hour), line_item_usage_end_date=_hour(hour + 1),
        line_item_resource_id=resource, reservation_reservation_a_r_n=CDI,
        reservation_effective_cost=effective, pricing_public_on_demand_cost=on_demand, pricing_term="Reserved",
    )


def on_demand(resource: str, cost: float, hour: int = 0) -> dict:
    return dict(
        line_item_line_item_type="Usage", line_item_unblended_cost=cost, line_item_usage_amount=1.0,
        line_item_usage_start_date=_hour(hour), line_item_usage_end_date=_hour(hour + 1),
        line_item_resource_id=resource, pricing_public_on_demand_cost=cost, pricing_term="OnDemand",
    )


def sp_covered(resource: str, on_demand_cost: float, effective: float) -> list[dict]:
    """SavingsPlanCoveredUsage at the On-Demand cost plus its SavingsPlanNegation."""
    common = dict(
        line_item_usage_amount=1.0, line_item_usage_start_date=_hour(0), line_item_usage_end_date=_hour(1),
        line_item_resource_id=resource, savings_plan_savings_plan_a_r_n=CDI,
    )
    return [
        dict(line_item_line_item_type="SavingsPlanCoveredUsage", line_item_unblended_cost=on_demand_cost,
             savings_plan_savings_plan_effective_cost=effective, pricing_public_on_demand_cost=on_demand_cost,
             **common),
        dict(line_item_line_item_type="SavingsPlanNegation", line_item_unblended_cost=-on_demand_cost, **common),
    ]


def sp_fee(commitment: float, used: float) -> dict:
    return dict(
        line_item_line_item_type="SavingsPlanRecurringFee", line_item_unblended_cost=commitment,
        line_item_usage_amount=1.0, line_item_usage_start_date=_hour(0), line_item_usage_end_date=_hour(1),
        savings_plan_savings_plan_a_r_n=CDI, savings_plan_total_commitment_to_date=commitment,
        savings_plan_used_commitment=used,
    )


# scenario file stem -> (CUR lines, ChargeCategories the spec's example shows)
CASES: dict[str, tuple[list[dict], tuple[str, ...]]] = {
    # All Upfront, 1 year: the upfront payment is a one-time purchase, amortized (EffectiveCost 0).
    "commitment_discount_scenarios__commitment_discount_purchase_scenario_1": (
        [ri_upfront(8760.0)], ("Purchase",)),
    # No Upfront: a recurring purchase every hour.
    "commitment_discount_scenarios__commitment_discount_purchase_scenario_2": (
        [ri_fee(1.0, hour=h) for h in range(3)], ("Purchase",)),
    # Partial Upfront: the upfront part once, then the recurring part every hour.
    "commitment_discount_scenarios__commitment_discount_purchase_scenario_3": (
        [ri_upfront(4380.0)] + [ri_fee(0.5, hour=h) for h in range(3)], ("Purchase",)),
    # An hour fully covered by the commitment.
    "commitment_discount_scenarios__commitment_discount_usage_scenario_1": (
        [ri_usage("<my-resource-id>", 1.0, 3.0)], ("Usage",)),
    # An hour nobody used: the unused commitment is its own Usage row.
    "commitment_discount_scenarios__commitment_discount_usage_scenario_2": (
        [ri_fee(1.0, unused_recurring=1.0)], ("Usage",)),
    # A spend commitment of 1.00/h, 0.75 of it used.
    "commitment_discount_scenarios__commitment_discount_usage_scenario_3": (
        sp_covered("<my-resource-id>", 1.5, 0.75) + [sp_fee(1.0, 0.75)], ("Usage",)),
    # One resource covered, the same resource's second hour-equivalent on demand.
    "commitment_discount_scenarios__commitment_discount_usage_scenario_4": (
        [ri_usage("<my-resource-id>", 1.0, 3.0), on_demand("<my-resource-id>", 0.5)], ("Usage",)),
    "commitment_discount_flexibility__zero_percent_utilization_without_commitment_discount_flexibility": (
        [ri_fee(1.5, unused_recurring=1.5), on_demand("<my-medium-vm-id>", 2.0)], ("Purchase", "Usage")),
    "commitment_discount_flexibility__one_hundred_percent_utilization_without_commitment_discount_flexibility": (
        [ri_fee(1.5), ri_usage("<my-large-vm-id>", 1.5, 3.0)], ("Purchase", "Usage")),
    # Size flexibility the other way: a small reservation covers part of a large VM's hour (CUR splits
    # the hour into the covered DiscountedUsage share and an on-demand Usage line for the rest).
    "commitment_discount_flexibility__one_hundred_percent_utilization_with_commitment_discount_"
    "flexibility_with_1_resource": (
        [ri_fee(0.5), ri_usage("<my-large-vm-id>", 0.5, 0.75), on_demand("<my-large-vm-id>", 2.25)],
        ("Purchase", "Usage")),
    # Size flexibility: one large reservation covers two medium VMs.
    "commitment_discount_flexibility__one_hundred_percent_utilization_with_commitment_discount_"
    "flexibility_with_2_resources": (
        [ri_fee(2.0), ri_usage("<my-medium-vm-id>", 1.0, 2.0), ri_usage("<my-medium-vm-id>", 1.0, 2.0)],
        ("Purchase", "Usage")),
}

_KEY = ("ChargeCategory", "ChargeFrequency", "PricingCategory", "CommitmentDiscountStatus", "ResourceId")


def _key(values: tuple) -> tuple:
    """The comparison key. The spec's examples disagree on an unused row's ResourceId (the
    commitment's id in usage scenario 2, the VM it was bought for in the flexibility scenario);
    CUR's RIFee line names only the commitment, so unused rows are compared without it."""
    return values[:4] + ((None,) if values[3] == "Unused" else values[4:])


def _null(value: str | None) -> str | None:
    return None if value in (None, "", "null", "NULL") else value


def expected_groups(stem: str, categories: tuple[str, ...]) -> dict[tuple, tuple[Decimal, Decimal]]:
    groups: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    with open(SCENARIOS / f"{stem}.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row.get("ChargeCategory") or row["ChargeCategory"] not in categories:
                continue
            key = _key(tuple(_null(row.get(k)) for k in _KEY))
            groups[key][0] += Decimal(row["BilledCost"])
            groups[key][1] += Decimal(row["EffectiveCost"])
    return {k: (b, e) for k, (b, e) in groups.items()}


def _cur_table() -> pa.Table:
    rows = []
    for stem, (lines, _) in CASES.items():
        for i, line in enumerate(lines):
            row = {
                "x_scenario": stem,
                "identity_line_item_id": f"{stem}-{i}",
                "bill_payer_account_id": "111111111111",
                "bill_billing_period_start_date": START,
                "bill_billing_period_end_date": "2023-02-01T00:00:00Z",
                "line_item_usage_account_id": "222222222222",
                "line_item_product_code": "AmazonEC2",
                "line_item_currency_code": "USD",
                "line_item_line_item_description": line["line_item_line_item_type"],
                "pricing_unit": "Hrs",
                **line,
            }
            rows.append(row)
    arrays = {}
    for name, type_ in _COLUMNS.items():
        values = [r.get(name) for r in rows]
        if pa.types.is_timestamp(type_):
            values = pa.array(values, pa.string()).cast(pa.timestamp("us", tz="UTC"))
        arrays[name] = pa.array(values, type_) if not isinstance(values, pa.Array) else values
    return pa.table(arrays)


@pytest.fixture(scope="module")
def focus_rows(tmp_path_factory: pytest.TempPathFactory, land_typed, dbt, fetch_rows) -> dict[str, list[dict]]:
    root = tmp_path_factory.mktemp("spec_scenarios")
    parquet = root / "cur2.parquet"
    pq.write_table(_cur_table(), parquet)
    db = root / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema raw")
    typed = land_typed(con, "aws_cur2", parquet, "2023-01")
    landed = landed_rows_sql([str(typed)])
    con.execute(f"create view raw.aws_cur2 as select * replace (x_scenario as x_source_file) from ({landed})")
    # int_aws__cur_line_items also reads legacy CUR, which this estate lacks: an empty raw view.
    refresh_raw_view(con, parse_source(DECLARATIONS_DIR / "sources" / "aws_cur_legacy.yaml"))
    con.close()
    result = dbt(db, root, "build", "--select", "+int_aws__focus_line_items", "--indirect-selection", "cautious")
    assert result.returncode == 0, result.stdout[-4000:]
    out: dict[str, list[dict]] = defaultdict(list)
    for row in fetch_rows(db, "select * from intermediate.int_aws__focus_line_items"):
        out[row["x_source_file"]].append(row)
    return out


@pytest.mark.parametrize("stem", sorted(CASES))
def test_spec_scenario_is_reproduced_from_cur_lines(focus_rows, stem: str) -> None:
    lines, categories = CASES[stem]
    expected = expected_groups(stem, categories)
    assert expected, f"{stem}: no expected rows read"
    actual: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in focus_rows[stem]:
        if row["ChargeCategory"] in categories:
            key = _key(tuple(row[k] for k in _KEY))
            actual[key][0] += row["BilledCost"]
            actual[key][1] += row["EffectiveCost"]
    got = {k: (b.quantize(Decimal("0.01")), e.quantize(Decimal("0.01"))) for k, (b, e) in actual.items()}
    want = {k: (b.quantize(Decimal("0.01")), e.quantize(Decimal("0.01"))) for k, (b, e) in expected.items()}
    assert got == want


def test_totals_per_scenario_equal_the_cur_lines(focus_rows) -> None:
    """Σ BilledCost = Σ unblended cost of the scenario's lines, whatever rows amortization adds."""
    for stem, (lines, _) in CASES.items():
        billed = sum(Decimal(repr(line["line_item_unblended_cost"])) for line in lines)
        assert sum(r["BilledCost"] for r in focus_rows[stem]) == billed, stem
