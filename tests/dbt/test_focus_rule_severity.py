"""FOCUS MUST blocks, SHOULD / MAY warns: the dbt tests on focus_cost_and_usage, run on a small
hand-built table, pass conformant rows, only warn on rows the specification allows (ChargeDescription
"SHOULD NOT be null", Tags "MAY be null", 1.3 HostProviderName "MAY be NULL" on Tax, an empty
period), and fail the build on a MUST violation (CommitmentDiscountStatus "MUST be null when
CommitmentDiscountId is null")."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.dbt

# The columns the tests on focus_cost_and_usage read, typed as the mart stores them.
COLUMNS = {
    "BilledCost": "decimal(38, 12)", "EffectiveCost": "decimal(38, 12)", "ListCost": "decimal(38, 12)",
    "ContractedCost": "decimal(38, 12)", "ListUnitPrice": "decimal(38, 12)", "ContractedUnitPrice": "decimal(38, 12)",
    "BillingAccountId": "varchar", "BillingCurrency": "varchar", "ProviderName": "varchar",
    "PublisherName": "varchar", "InvoiceIssuerName": "varchar", "ServiceProviderName": "varchar",
    "HostProviderName": "varchar", "ChargeCategory": "varchar", "ChargeClass": "varchar",
    "ChargeFrequency": "varchar", "ChargeDescription": "varchar", "PricingCategory": "varchar",
    "PricingQuantity": "decimal(38, 12)", "PricingUnit": "varchar", "ConsumedQuantity": "decimal(38, 12)",
    "ConsumedUnit": "varchar", "CommitmentDiscountId": "varchar", "CommitmentDiscountStatus": "varchar",
    "CommitmentDiscountCategory": "varchar", "CommitmentDiscountType": "varchar", "CommitmentDiscountName": "varchar",
    "CommitmentDiscountQuantity": "decimal(38, 12)", "CommitmentDiscountUnit": "varchar",
    "CapacityReservationId": "varchar", "CapacityReservationStatus": "varchar",
    "ChargePeriodStart": "timestamptz", "ChargePeriodEnd": "timestamptz",
    "BillingPeriodStart": "timestamptz", "BillingPeriodEnd": "timestamptz",
    "ServiceCategory": "varchar", "ServiceSubcategory": "varchar", "ServiceName": "varchar",
    "Tags": "json", "x_source": "varchar", "x_provider_line_type": "varchar", "x_billing_period": "varchar",
    "x_tags": "json", "x_loaded_at": "timestamptz", "x_billed_cost_reporting": "decimal(38, 12)",
    "x_effective_cost_reporting": "decimal(38, 12)",
}

AWS = "Amazon Web Services"
ON_DEMAND_HOUR = {
    "BilledCost": 1, "EffectiveCost": 1, "ListCost": 1, "ContractedCost": 1, "ListUnitPrice": 1,
    "ContractedUnitPrice": 1, "BillingAccountId": "111111111111", "BillingCurrency": "USD",
    "ProviderName": AWS, "PublisherName": AWS, "InvoiceIssuerName": AWS, "ServiceProviderName": AWS,
    "HostProviderName": AWS, "ChargeCategory": "Usage", "ChargeFrequency": "Usage-Based",
    "ChargeDescription": "m5.large on demand", "PricingCategory": "Standard", "PricingQuantity": 1,
    "PricingUnit": "Hours", "ConsumedQuantity": 1, "ConsumedUnit": "Hours",
    "ChargePeriodStart": "2026-08-01 01:00:00+00", "ChargePeriodEnd": "2026-08-01 02:00:00+00",
    "BillingPeriodStart": "2026-08-01 00:00:00+00", "BillingPeriodEnd": "2026-09-01 00:00:00+00",
    "ServiceCategory": "Compute", "ServiceSubcategory": "Virtual Machines",
    "ServiceName": "Amazon Elastic Compute Cloud", "Tags": '{"team": "ml"}', "x_source": "aws_cur2",
    "x_billing_period": "2026-08", "x_tags": '{"team": "ml"}', "x_loaded_at": "2026-09-02 00:00:00+00",
    "x_billed_cost_reporting": 1, "x_effective_cost_reporting": 1,
}
# An hour covered by a reservation: every commitment column set, as FOCUS requires.
RESERVED_HOUR = {
    **ON_DEMAND_HOUR, "BilledCost": 0, "EffectiveCost": "0.6", "ContractedCost": 0, "ContractedUnitPrice": 0,
    "x_billed_cost_reporting": 0, "x_effective_cost_reporting": "0.6", "PricingCategory": "Committed",
    "CommitmentDiscountId": "arn:aws:ec2:us-east-1:111111111111:reserved-instances/ri-1",
    "CommitmentDiscountStatus": "Used", "CommitmentDiscountCategory": "Usage",
    "CommitmentDiscountType": "Reserved Instance", "CommitmentDiscountName": "ri-1",
    "CommitmentDiscountQuantity": 1, "CommitmentDiscountUnit": "Hours",
}
TAX = {
    **{k: v for k, v in ON_DEMAND_HOUR.items() if k not in (
        "ListUnitPrice", "ContractedUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
        "ConsumedQuantity", "ConsumedUnit")},
    "ChargeCategory": "Tax", "ChargeFrequency": "Recurring", "ChargeDescription": "Sales tax",
    "BilledCost": "0.1", "EffectiveCost": "0.1", "ListCost": "0.1", "ContractedCost": "0.1",
    "x_billed_cost_reporting": "0.1", "x_effective_cost_reporting": "0.1",
}

# What FOCUS allows but does not want (SHOULD / MAY): each only warns.
SHOULD_ROWS = [
    {**ON_DEMAND_HOUR, "ChargeDescription": None, "Tags": None},    # SHOULD NOT be null / MAY be null
    {**TAX, "HostProviderName": None},                              # 1.3: MAY be NULL on Tax
    {**ON_DEMAND_HOUR, "ChargePeriodEnd": ON_DEMAND_HOUR["ChargePeriodStart"]},  # empty period: no rule
]
SHOULD_WARNINGS = {
    "not_null_focus_cost_and_usage_ChargeDescription",
    "not_null_focus_cost_and_usage_Tags",
    "not_null_focus_cost_and_usage_HostProviderName",
    "assert_focus_period_not_empty",
}
# "CommitmentDiscountStatus MUST be null when CommitmentDiscountId is null."
MUST_ROW = {**ON_DEMAND_HOUR, "CommitmentDiscountStatus": "Used"}
MUST_FAILURE = "focus_commitment_discount_status_null_without_commitment"


def _insert(warehouse: Path, rows: list[dict]) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists main")
        columns = ", ".join(f'"{name}" {type_}' for name, type_ in COLUMNS.items())
        con.execute(f"create table if not exists main.focus_cost_and_usage ({columns})")
        names = list(COLUMNS)
        marks = ", ".join("?" for _ in names)
        con.executemany(f"insert into main.focus_cost_and_usage values ({marks})",
                        [[row.get(name) for name in names] for row in rows])
    finally:
        con.close()


def _test_focus_table(dbt, warehouse: Path, work: Path) -> tuple[int, dict[str, str]]:
    """`dbt test` on focus_cost_and_usage alone (tests that also read other relations, e.g. the
    reconciliations, are left out): the return code and each test's status by name."""
    result = dbt(warehouse, work, "test", "--select", "focus_cost_and_usage", "--indirect-selection", "cautious")
    run_results = work / "target" / "run_results.json"
    assert run_results.exists(), result.stdout[-4000:]
    statuses = {r["unique_id"].split(".")[2]: r["status"] for r in json.loads(run_results.read_text())["results"]}
    return result.returncode, statuses


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("focus_rules") / "warehouse.duckdb"
    _insert(db, [ON_DEMAND_HOUR, RESERVED_HOUR, TAX, *SHOULD_ROWS])
    return db


@pytest.fixture(scope="module")
def should_run(warehouse: Path, tmp_path_factory: pytest.TempPathFactory, dbt) -> tuple[int, dict[str, str]]:
    return _test_focus_table(dbt, warehouse, tmp_path_factory.mktemp("should_run"))


def test_should_and_may_violations_warn_and_do_not_fail_the_build(should_run) -> None:
    returncode, statuses = should_run
    assert len(statuses) > 40  # every FOCUS rule on the table ran
    assert {name for name, status in statuses.items() if status != "pass"} == SHOULD_WARNINGS
    assert {statuses[name] for name in SHOULD_WARNINGS} == {"warn"}
    assert returncode == 0


def test_a_must_violation_fails_the_build(warehouse: Path, should_run, tmp_path: Path, dbt) -> None:
    _insert(warehouse, [MUST_ROW])
    returncode, statuses = _test_focus_table(dbt, warehouse, tmp_path)
    assert statuses[MUST_FAILURE] == "fail"
    assert {name for name, status in statuses.items() if status == "fail"} == {MUST_FAILURE}
    assert {name for name, status in statuses.items() if status == "warn"} == SHOULD_WARNINGS
    assert returncode != 0
