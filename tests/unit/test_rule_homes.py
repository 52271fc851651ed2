"""One home per quality rule (checks/README.md, "Which rule goes where"), the file contracts' side:
a raw GX expectation never repeats a rule its file contract holds, and each raw rule moved out of
GX still fires on the bad input at landing. The staging and mart side (dbt tests):
tests/dbt/test_one_home_per_rule.py.

Moved rules, and why the remaining rule is the same or stricter:
- raw not-null on a column the contract declares `required` and `not_null`: the contract's check
  rejects the file when any row lacks a value (a null spelling such as "" or "NULL" counts as
  missing, so it is stricter than GX's `is null`), and a file without the column at all;
- raw `^[A-Z]{3}$` on a currency the contract checks with `currency_code`: only active ISO 4217
  codes pass (a subset of three capitals). The contract compares trimmed text; a padded " USD"
  still reaches staging untrimmed, where the staging suite's regex on billing_currency blocks it;
- raw GCP cost_type in set: the contract's `in_set` holds the same values; the exact spelling
  (a padded " tax") is the staging suite's, which holds the same values on the untrimmed column;
- raw Azure ChargeType in set: the contract's `in_set` (which allows `Adjustment`; the raw set did
  not, so a file the contract accepted was blocked); staging maps every other value to Adjustment;
- raw regexes on money and dates the contract types (`money`, `date`): a value that does not parse
  as its type rejects the file, so a typed raw column never holds anything else;
- raw `gpu_index >= 0`: the contract's `non_negative` on the same integer column, no condition.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from atlas_pipeline.lib.ingest.contracts import FileContract
from atlas_pipeline.lib.ingest.file_validation import contract_for, land_file
from atlas_pipeline.lib.ingest.sources import parse_source
from atlas_pipeline.lib.quality.expectations import DeclaredSuite, load_suites, parse_suite, validate
from atlas_pipeline.lib.settings import CHECKS_DIR, DECLARATIONS_DIR

NOT_NULL = "expect_column_values_to_not_be_null"
REGEX = "expect_column_values_to_match_regex"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
CURRENCY_REGEX = "^[A-Z]{3}$"


def contract_repeats(suite: DeclaredSuite, contract: FileContract) -> list[str]:
    """The raw suite's expectations that the file contract already holds, same or stricter."""
    repeated = []
    rules = {(r.expect, r.column.lower()) for r in contract.rules if not r.when}
    for e in suite.expectations:
        name = e.kwargs.get("column")
        column = contract.column(name) if name else None
        if column is None:
            continue
        key = name.lower()
        if e.type == NOT_NULL and column.required and column.not_null:
            repeated.append(f"{suite.name}: not null {name} (contract: required, not_null)")
        elif e.type == REGEX and e.kwargs.get("regex") == CURRENCY_REGEX and ("currency_code", key) in rules:
            repeated.append(f"{suite.name}: currency regex on {name} (contract: currency_code)")
        elif e.type == REGEX and column.type in ("money", "decimal", "date", "timestamp", "integer"):
            repeated.append(f"{suite.name}: regex on {name} (contract types it as {column.type})")
        elif (e.type == BETWEEN and e.kwargs.get("min_value") == 0 and e.kwargs.get("max_value") is None
              and ("non_negative", key) in rules):
            repeated.append(f"{suite.name}: {name} >= 0 (contract: non_negative)")
        elif e.type == IN_SET and ("in_set", key) in rules:
            # same values: written twice; other values: two rules that disagree (Azure's raw set once
            # lacked the contract's `Adjustment`, blocking files the contract accepted)
            repeated.append(f"{suite.name}: {name} in set (contract: in_set)")
    return repeated


def test_no_raw_gx_expectation_repeats_its_file_contract():
    repeated = []
    for suite in load_suites(CHECKS_DIR):
        schema, name = suite.relation.split(".")
        contract = contract_for(name) if schema == "raw" else None
        if contract is not None:
            repeated += contract_repeats(suite, contract)
    assert repeated == []


def test_the_contract_guard_sees_the_rules_it_guards_against():
    """The guard above would catch a repeated rule: the fuller CUR 2.0 suite (the bundled one before
    its rules moved to the contract) repeats seven contract rules."""
    full = parse_suite(Path(__file__).resolve().parents[1] / "fixtures" / "gx" / "aws_cur2_full_suite.json")
    assert len(contract_repeats(full, contract_for("aws_cur2"))) == 7


# -- the moved raw rules fire in the file contract ----------------------------------------------


def _write_csv(path: Path, rows: list[dict]) -> None:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join("" if r[c] is None else str(r[c]) for c in header) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def _write_sacct(path: Path, rows: list[dict]) -> None:
    """`sacct -P`: pipe-separated, a header line."""
    header = list(rows[0])
    lines = ["|".join(header)] + ["|".join("" if r[c] is None else str(r[c]) for c in header) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def _write_jsonl_gz(path: Path, rows: list[dict]) -> None:
    with gzip.open(path, "wt") as out:
        for r in rows:
            out.write(json.dumps(r) + "\n")


def _write_parquet(path: Path, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    for column in ("line_item_usage_start_date", "line_item_usage_end_date"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute(f"copy (select * from frame) to '{path}' (format parquet)")
    con.close()


AWS_ROW = {
    "identity_line_item_id": "li-1", "bill_payer_account_id": "210987654321", "line_item_line_item_type": "Usage",
    "line_item_usage_start_date": "2026-08-01 00:00:00", "line_item_usage_end_date": "2026-08-01 01:00:00",
    "line_item_unblended_cost": 1.25, "line_item_currency_code": "USD",
}
AZURE_ROW = {
    "BillingAccountId": "8765", "SubscriptionId": "sub-1", "Date": "08/03/2026", "BillingPeriodStartDate": "08/01/2026",
    "Quantity": "2.5", "CostInBillingCurrency": "1.25", "BillingCurrencyCode": "USD", "ChargeType": "Usage",
}
GCP_ROW = {
    "billing_account_id": "01A2B3-C4D5E6-F7A8B9", "usage_start_time": "2026-08-01 00:00:00 UTC",
    "usage_end_time": "2026-08-01 01:00:00 UTC", "cost": 0.42, "currency": "USD", "cost_type": "regular",
    "invoice": {"month": "202608"},
}
DRILL_ROW = {"drill_id": "d1", "injected_at": "2026-11-03 01:00:20", "hostname": "lab-00", "gpu_index": 0,
             "field_id": 230, "value": "79"}
NODE_ROW = {"hostname": "h1", "cluster": "c1", "gpu_count": 8}
SACCT_ROW = {"JobID": "101", "JobName": "train", "Start": "2026-11-02T01:00:00", "End": "2026-11-02T02:00:00",
             "State": "COMPLETED"}

# source -> (file name, writer, good row, period)
SOURCES = {
    "aws_cur2": ("part-0.parquet", _write_parquet, AWS_ROW, "2026-08"),
    "azure_cost_details_actual": ("part_1_0001.csv", _write_csv, AZURE_ROW, "2026-08"),
    "azure_cost_details_amortized": ("part_1_0001.csv", _write_csv, AZURE_ROW, "2026-08"),
    "gcp_billing": ("part-0.jsonl.gz", _write_jsonl_gz, GCP_ROW, "2026-08"),
    "gpu_fault_injections": ("drills.csv", _write_csv, DRILL_ROW, "current"),
    "gpu_nodes": ("nodes.csv", _write_csv, NODE_ROW, "current"),
    "slurm_jobs": ("2026-11-02.sacct.txt", _write_sacct, SACCT_ROW, "2026-11-02"),
}
# Each raw GX rule moved to the contract: (source, column, bad value, the contract rule that fires).
MOVED_TO_CONTRACT = [
    *[("aws_cur2", c, None, f"not_null({c})") for c in (
        "identity_line_item_id", "bill_payer_account_id", "line_item_line_item_type",
        "line_item_usage_start_date", "line_item_unblended_cost", "line_item_currency_code")],
    ("aws_cur2", "line_item_currency_code", "usd", "currency_code(line_item_currency_code)"),
    *[(s, c, v, rule) for s in ("azure_cost_details_actual", "azure_cost_details_amortized") for c, v, rule in (
        ("Date", None, "not_null(Date)"),
        ("CostInBillingCurrency", None, "not_null(CostInBillingCurrency)"),
        ("CostInBillingCurrency", "1.25 USD", "decimal(CostInBillingCurrency)"),
        ("BillingCurrencyCode", "usd", "currency_code(BillingCurrencyCode)"),
        ("Date", "3rd of August", "date(Date)"),
        ("BillingPeriodStartDate", "August 2026", "date(BillingPeriodStartDate)"),
        ("ChargeType", "Bogus", "in_set(ChargeType)"),
    )],
    *[("gcp_billing", c, None, f"not_null({c})") for c in ("billing_account_id", "usage_start_time", "cost", "currency")],
    ("gcp_billing", "currency", "usd", "currency_code(currency)"),
    ("gcp_billing", "cost_type", "discount", "in_set(cost_type)"),
    *[("gpu_fault_injections", c, None, f"not_null({c})") for c in ("drill_id", "hostname", "injected_at")],
    ("gpu_fault_injections", "gpu_index", -1, "non_negative(gpu_index)"),
    *[("gpu_nodes", c, None, f"not_null({c})") for c in ("hostname", "cluster")],
    ("slurm_jobs", "JobID", None, "not_null(JobID)"),
]


def _land(tmp_path: Path, source_name: str, rows: list[dict]):
    name, write, _, period = SOURCES[source_name]
    source = parse_source(DECLARATIONS_DIR / "sources" / f"{source_name}.yaml")
    path = tmp_path / name
    write(path, rows)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        return land_file(con, source, period, "v1", name, path, tmp_path / "typed.parquet", name)
    finally:
        con.close()


@pytest.mark.parametrize("source_name", sorted(SOURCES))
def test_the_good_file_of_each_source_lands(tmp_path, source_name):
    good = SOURCES[source_name][2]
    verdict = _land(tmp_path, source_name, [good, good])
    assert not verdict.rejected, verdict.problem
    assert verdict.rows == 2


@pytest.mark.parametrize(("source_name", "column", "bad", "rule"), MOVED_TO_CONTRACT,
                         ids=[f"{s}-{rule}-{bad}" for s, _, bad, rule in MOVED_TO_CONTRACT])
def test_a_moved_raw_rule_fires_in_the_file_contract(tmp_path, source_name, column, bad, rule):
    good = SOURCES[source_name][2]
    verdict = _land(tmp_path, source_name, [good, {**good, column: bad}])
    assert verdict.rejected, f"{rule} let {column}={bad!r} through"
    assert rule in verdict.problem, verdict.problem
    assert {v["row"] for v in verdict.details["violations"] if v["column"] == column} == {2}


@pytest.mark.parametrize("source_name", ["azure_cost_details_actual", "azure_cost_details_amortized"])
def test_every_charge_type_the_azure_contract_allows_passes_the_raw_suite(tmp_path, source_name):
    """The raw suite once held its own, narrower ChargeType set: an `Adjustment` row passed the file
    contract and then blocked the whole source at the raw check. Each value the contract allows now
    lands and passes the raw suite."""
    [rule] = [r for r in contract_for(source_name).rules if r.expect == "in_set" and r.column == "ChargeType"]
    good = SOURCES[source_name][2]
    rows = [{**good, "ChargeType": value} for value in rule.values]
    verdict = _land(tmp_path, source_name, rows)
    assert not verdict.rejected, verdict.problem
    [suite] = [s for s in load_suites(CHECKS_DIR) if s.relation == f"raw.{source_name}"]
    frame = pd.DataFrame([{c: row.get(c) for c in suite.columns} for row in rows])
    outcome = validate(dataclasses.replace(suite, partition_column=None), frame)
    assert outcome.success, [f.unexpected_values for f in outcome.failed]
    assert "Adjustment" in rule.values


@pytest.mark.parametrize("staging", ["stg_aws__cur2_line_items", "stg_gcp__billing_line_items",
                                     "stg_azure__cost_details_actual", "stg_azure__cost_details_amortized"])
def test_a_padded_currency_the_contract_trims_is_blocked_at_staging(staging):
    """The contract reads " USD" as USD; staging passes the raw text through, and its suite's
    regex blocks it, so removing the raw regex lost nothing."""
    [suite] = [s for s in load_suites(CHECKS_DIR) if s.relation == f"staging.{staging}"]
    [rule] = [e for e in suite.expectations if e.type == REGEX and e.kwargs["column"] == "billing_currency"]
    assert rule.kwargs["regex"] == CURRENCY_REGEX and suite.blocking
    only = dataclasses.replace(suite, expectations=(rule,), columns=("billing_currency",), partition_column=None)
    outcome = validate(only, pd.DataFrame({"billing_currency": ["USD", " USD"]}))
    assert not outcome.success and outcome.failed[0].unexpected_values == [" USD"]


def test_a_padded_gcp_cost_type_the_contract_trims_is_blocked_at_staging():
    """Same for GCP's cost types: the contract's in_set reads " tax" as tax; staging passes cost_type
    through and its suite holds the same values, spelled exactly."""
    [contract_rule] = [r for r in contract_for("gcp_billing").rules if r.expect == "in_set"]
    [suite] = [s for s in load_suites(CHECKS_DIR) if s.relation == "staging.stg_gcp__billing_line_items"]
    [rule] = [e for e in suite.expectations if e.type == IN_SET and e.kwargs["column"] == "cost_type"]
    assert set(rule.kwargs["value_set"]) == set(contract_rule.values) and suite.blocking
    only = dataclasses.replace(suite, expectations=(rule,), columns=("cost_type",), partition_column=None)
    outcome = validate(only, pd.DataFrame({"cost_type": ["tax", " tax"]}))
    assert not outcome.success and outcome.failed[0].unexpected_values == [" tax"]
