"""The GX wrapper: suite files parse once with errors that name file and field; validation names offenders."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from atlas_pipeline.lib.ingest.sources import DeclarationError
from atlas_pipeline.lib.quality.expectations import (
    DeclaredSuite,
    RelationUnavailable,
    fetch_frame,
    load_suites,
    parse_suite,
    validate,
)
from atlas_pipeline.lib.settings import CHECKS_DIR

# The GX wrapper's tests run on a fuller suite than the bundled raw one: the CUR 2.0 suite as it was
# before its not-null and currency rules moved to their one home, the file contract
# (checks/files/aws_cur2.yaml; tests/dbt/test_one_home_per_rule.py).
AWS_SUITE = Path(__file__).resolve().parents[1] / "fixtures" / "gx" / "aws_cur2_full_suite.json"
T0 = datetime(2026, 8, 1, tzinfo=UTC)
T1 = datetime(2026, 8, 1, 1, tzinfo=UTC)


def aws_frame(**overrides: list) -> pd.DataFrame:
    """Three good CUR 2.0 rows; `overrides` replace whole columns."""
    columns = {
        "identity_line_item_id": ["a1", "a2", "a3"],
        "bill_payer_account_id": ["210987654321"] * 3,
        "line_item_line_item_type": ["Usage", "SavingsPlanCoveredUsage", "Tax"],
        "line_item_usage_start_date": [T0] * 3,
        "line_item_usage_end_date": [T1] * 3,
        "line_item_unblended_cost": [1.25, 0.0, 0.1],
        "line_item_currency_code": ["USD"] * 3,
    }
    return pd.DataFrame(columns | overrides)


# One good row per bundled suite, typed as the raw relation types them.
GOOD_ROWS: dict[str, dict] = {
    "raw_aws_cur2": aws_frame().iloc[0].to_dict(),
    "raw_gcp_billing": {
        "billing_account_id": "01A2B3-C4D5E6-F7A8B9",
        "usage_start_time": "2026-08-01 00:00:00 UTC",
        "usage_end_time": "2026-08-01 01:00:00.000000 UTC",
        "cost": 0.42,
        "currency": "USD",
        "cost_type": "regular",
    },
    **{
        f"raw_azure_cost_details_{dataset}": {
            "BillingAccountId": "87654321",
            "SubscriptionId": "e18e1552-c6dd-45d1-973c-999999999999",
            "Date": "9/2/2023",
            "BillingPeriodStartDate": "2023-09-01",
            "CostInBillingCurrency": "7.22904E-05",
            "BillingCurrencyCode": "CAD",
            "ChargeType": "Usage",
        }
        for dataset in ("actual", "amortized")
    },
    "raw_node_exporter_prometheus_exports": {
        "x_source_file": "node_exporter/train-a/2026-11-02/a-node-00.json.gz", "x_period": "2026-11-02",
        "samples": 1440, "unnamed_samples": 0, "unparsed_timestamps": 0,
    },
    "raw_gpu_fault_injections": {
        "drill_id": "drill-1", "hostname": "lab-00", "injected_at": "2026-11-03 01:00:20+00", "gpu_index": 0,
        "field_id": 230,
    },
}


def write_suite(folder: Path, data: dict, name: str = "suite.json") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


@pytest.fixture()
def aws_suite() -> DeclaredSuite:
    return parse_suite(AWS_SUITE)


# -- loading -----------------------------------------------------------------------------------


def test_bundled_suites_load_and_are_blocking():
    suites = {s.name: s for s in load_suites(CHECKS_DIR)}
    assert set(suites) >= set(GOOD_ROWS)
    aws = suites["raw_aws_cur2"]
    assert aws.asset == ("raw", "aws_cur2") and aws.relation == "raw.aws_cur2"
    assert aws.check_name == "gx_raw_aws_cur2"
    assert all(s.description and s.columns for s in suites.values())
    # Correctness gates block; only the soft signals in checks/warn/ merely warn.
    assert {s.name for s in suites.values() if not s.blocking} == {
        "warn_tag_coverage", "warn_daily_cost_spike", "warn_telemetry_gaps"
    }
    assert all(s.declared_in.parent.name == "warn" for s in suites.values() if not s.blocking)
    # The mandatory CUR columns are never null: a rule of the file contract (one home), not repeated here.
    from atlas_pipeline.lib.ingest.file_validation import contract_for

    contract = contract_for("aws_cur2")
    not_null = {c.name for c in contract.columns if c.required and c.not_null}
    assert not_null >= {
        "identity_line_item_id", "line_item_line_item_type", "line_item_usage_start_date",
        "bill_payer_account_id", "line_item_unblended_cost",
    }
    repeated = {e.kwargs.get("column") for e in aws.expectations if e.type == "expect_column_values_to_not_be_null"}
    assert not (repeated & not_null)


@pytest.mark.parametrize("name", sorted(GOOD_ROWS))
def test_every_bundled_suite_accepts_a_good_row(name):
    """Also proves every declared expectation type and kwargs are valid GX 1.x."""
    [suite] = [s for s in load_suites(CHECKS_DIR) if s.name == name]
    outcome = validate(suite, pd.DataFrame([GOOD_ROWS[name]]))
    assert outcome.success, outcome.failed
    assert outcome.evaluated == len(suite.expectations) and outcome.rows == 1


def test_every_source_and_mart_has_a_suite():
    from atlas_pipeline.lib.ingest.sources import load_sources
    from atlas_pipeline.lib.settings import DBT_PROJECT_DIR, DECLARATIONS_DIR

    assets = {s.asset for s in load_suites(CHECKS_DIR)}
    # Optional sources (`required: false`) may be an empty view: they are gated by their file contract
    # (checks/files/) and the GX suite on their staging model instead.
    assert {("raw", src.name) for src in load_sources(DECLARATIONS_DIR / "sources") if src.required} <= assets
    # Every table the dbt project builds under models/marts/ (views over them are not gated separately).
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    marts = {
        (node["name"],) for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts" and node["config"]["materialized"] != "view"
    }
    assert ("focus_cost_and_usage",) in marts and ("fct_gpu_cost_allocation",) in marts
    assert marts <= assets, sorted(marts - assets)


def test_every_bundled_expectation_is_valid_gx():
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    for suite in load_suites(CHECKS_DIR):
        for e in suite.expectations:
            ExpectationConfiguration(type=e.type, kwargs=dict(e.kwargs)).to_domain_obj()  # raises if invalid


def test_failed_expectation_names_partitions_and_shows_offending_rows(tmp_path):
    data = json.loads(AWS_SUITE.read_text())
    data["meta"]["atlas"]["partition_column"] = "x_period"
    suite = parse_suite(write_suite(tmp_path, data))
    assert suite.fetched_columns[-1] == "x_period"
    frame = aws_frame(line_item_currency_code=["USD", "usd", "EUR"]).assign(x_period=["2026-08", "2026-09", "2026-09"])
    outcome = validate(suite, frame)
    [failure] = outcome.failed
    assert failure.partitions == ["2026-09"] and outcome.failed_partitions == ["2026-09"]
    [offending] = failure.offending_rows
    assert offending["identity_line_item_id"] == "a2" and offending["line_item_currency_code"] == "usd"
    assert "in partition(s) 2026-09" in outcome.failures_markdown() and "| \"a2\" |" in outcome.failures_markdown()


def test_suite_query_is_validated_instead_of_the_relation(tmp_path):
    con = duckdb.connect()
    con.execute("create schema m; create table m.t as select * from (values (1, 'x'), (50, 'y')) v(n, p)")
    data = {
        "name": "q", "expectations": [{"type": "expect_column_values_to_be_between",
                                        "kwargs": {"column": "doubled", "max_value": 10}}],
        "meta": {"atlas": {"asset": ["t"], "relation": "m.t", "blocking": False, "columns": ["doubled"],
                           "partition_column": "p", "query": "select n * 2 as doubled, p from m.t"}},
    }
    suite = parse_suite(write_suite(tmp_path, data))
    outcome = validate(suite, fetch_frame(con, suite))
    assert not outcome.success and outcome.failed[0].unexpected_values == [100]
    assert outcome.failed_partitions == ["y"]


def test_load_suites_is_recursive_and_rejects_duplicate_names(tmp_path):
    data = json.loads(AWS_SUITE.read_text())
    write_suite(tmp_path, data, "a/one.json")
    assert [s.name for s in load_suites(tmp_path)] == ["raw_aws_cur2"]
    write_suite(tmp_path, data, "b/deeper/two.json")
    with pytest.raises(DeclarationError, match=r"two\.json: field 'name' 'raw_aws_cur2' is already used by .*one\.json"):
        load_suites(tmp_path)


def _break(path: str, value):
    """Set (or delete, for value=...) a dotted path in a copy of the AWS suite."""
    data = copy.deepcopy(json.loads(AWS_SUITE.read_text()))
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if value is ...:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_break("meta.atlas.relation", ...), "meta.atlas.relation"),
        (_break("meta.atlas.relation", "raw.aws_cur2; drop table x"), "meta.atlas.relation"),
        (_break("meta.atlas.blocking", "yes"), "meta.atlas.blocking"),
        (_break("meta.atlas.asset", "raw/aws_cur2"), "meta.atlas.asset"),
        (_break("meta.atlas.sample_rows", 0), "meta.atlas.sample_rows"),
        (_break("meta.atlas.smaple_rows", 10), "meta.atlas.smaple_rows"),
        (_break("meta.atlas", ...), "meta.atlas"),
        (_break("name", "raw-aws"), "name"),
        (_break("expectations", []), "expectations"),
        (_break("expectations.1.type", "ExpectColumnValuesToNotBeNull"), "expectations[1].type"),
        (_break("expectations.1.kwargs", ["identity_line_item_id"]), "expectations[1].kwargs"),
        (_break("expectations.1.kwargs.column", "not_fetched"), "expectations[1].kwargs.column"),
    ],
)
def test_malformed_suite_names_file_and_field(tmp_path, data, field):
    path = write_suite(tmp_path, data, "bad.json")
    with pytest.raises(DeclarationError) as error:
        parse_suite(path)
    assert str(error.value).startswith(f"{path}: field '{field}'"), error.value


def test_invalid_json_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x",')
    with pytest.raises(DeclarationError, match=r"broken\.json: not valid JSON"):
        parse_suite(path)


def test_unknown_expectation_type_names_file_and_expectation(tmp_path):
    path = write_suite(tmp_path, _break("expectations.1.type", "expect_column_values_to_be_purple"), "odd.json")
    suite = parse_suite(path)  # the type is only known to GX, so it is checked when the suite runs
    expected = r"odd\.json: field 'expectations\[1\]' \(expect_column_values_to_be_purple\) is not a valid GX"
    with pytest.raises(DeclarationError, match=expected):
        validate(suite, aws_frame())


# -- validating --------------------------------------------------------------------------------


def test_good_frame_passes(aws_suite):
    outcome = validate(aws_suite, aws_frame())
    assert outcome.success and outcome.failed == () and outcome.rows == 3


def test_bad_frame_fails_and_names_the_offenders(aws_suite):
    bad = aws_frame(
        identity_line_item_id=["a1", None, "a3"],
        line_item_line_item_type=["Usage", "Bogus", "Bogus"],
        line_item_currency_code=["USD", "usd", "USD"],
    )
    outcome = validate(aws_suite, bad)
    assert not outcome.success
    failed = {(f.expectation, f.column): f for f in outcome.failed}
    assert set(failed) == {
        ("expect_column_values_to_not_be_null", "identity_line_item_id"),
        ("expect_column_values_to_be_in_set", "line_item_line_item_type"),
        ("expect_column_values_to_match_regex", "line_item_currency_code"),
    }
    in_set = failed[("expect_column_values_to_be_in_set", "line_item_line_item_type")]
    assert in_set.unexpected_count == 2 and in_set.unexpected_values == ["Bogus"]  # distinct values
    assert failed[("expect_column_values_to_not_be_null", "identity_line_item_id")].unexpected_count == 1
    assert failed[("expect_column_values_to_match_regex", "line_item_currency_code")].unexpected_values == ["usd"]
    assert "Bogus" in outcome.failures_markdown()


def test_outcome_is_json_serialisable_with_timestamps_and_errors(aws_suite):
    swapped = aws_frame(line_item_usage_start_date=[T1] * 3, line_item_usage_end_date=[T0] * 3)
    outcome = validate(aws_suite, swapped.drop(columns=["line_item_unblended_cost"]))
    data = json.loads(json.dumps(outcome.to_json_dict()))
    failed = {f["expectation"]: f for f in data["failed"]}
    assert failed["expect_column_pair_values_a_to_be_greater_than_b"]["unexpected_count"] == 3
    # A missing column fails its expectation with GX's message rather than raising.
    assert "line_item_unblended_cost" in failed["expect_column_values_to_not_be_null"]["error"]


def test_empty_relation_fails(aws_suite):
    outcome = validate(aws_suite, aws_frame().iloc[0:0])
    assert [f.expectation for f in outcome.failed] == ["expect_table_row_count_to_be_between"]


# -- fetching from DuckDB ----------------------------------------------------------------------


def test_fetch_selects_only_declared_columns_and_samples_repeatably(aws_suite):
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(
        "create table raw.aws_cur2 as select 'id' || i as identity_line_item_id, '1' as bill_payer_account_id, "
        "'Usage' as line_item_line_item_type, timestamptz '2026-08-01 00:00:00+00' as line_item_usage_start_date, "
        "timestamptz '2026-08-01 01:00:00+00' as line_item_usage_end_date, i * 0.5 as line_item_unblended_cost, "
        "'USD' as line_item_currency_code, map {'team': 'x'} as resource_tags, '2026-08' as x_period from range(5000) t(i)"
    )
    df = fetch_frame(con, aws_suite)
    assert list(df.columns) == [*aws_suite.columns, "x_period"] and len(df) == 5000  # + the partition column
    assert validate(aws_suite, df).success

    sampled = dataclasses.replace(aws_suite, sample_rows=50)
    assert "using sample reservoir(50 rows) repeatable (42)" in sampled.select_sql()
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    first, second = fetch_frame(con, sampled), fetch_frame(con, sampled)
    assert len(first) == 50 and first["identity_line_item_id"].tolist() == second["identity_line_item_id"].tolist()
    assert con.execute("select current_setting('threads')").fetchone()[0] == threads  # single-threaded only while sampling


def test_fetch_reports_missing_relation_and_columns(aws_suite):
    con = duckdb.connect()
    with pytest.raises(RelationUnavailable, match=r"relation raw\.aws_cur2 does not exist"):
        fetch_frame(con, aws_suite)
    con.execute("create schema raw")
    con.execute("create table raw.aws_cur2 (identity_line_item_id varchar, line_item_currency_code varchar)")
    with pytest.raises(RelationUnavailable, match=r"lacks declared columns: bill_payer_account_id, "):
        fetch_frame(con, aws_suite)


def test_every_optional_source_has_a_file_contract_and_a_staging_suite():
    from atlas_pipeline.lib.ingest.file_validation import contract_for
    from atlas_pipeline.lib.ingest.sources import load_sources
    from atlas_pipeline.lib.settings import DECLARATIONS_DIR

    optional = [s.name for s in load_sources(DECLARATIONS_DIR / "sources") if not s.required]
    assert optional and all(contract_for(name) is not None for name in optional)
    staged = {s.asset[0] for s in load_suites(CHECKS_DIR) if s.relation.startswith("staging.")}
    expected = {"stg_aws__cur_legacy_line_items", "stg_aws__focus_line_items", "stg_azure__focus_cost",
                "stg_gcp__billing_detailed_line_items", "stg_saas__focus_cost"}
    assert expected <= staged


def test_every_problem_of_a_suite_is_listed(tmp_path):
    data = _break("meta.atlas.blocking", "yes")
    data["meta"]["atlas"]["sample_rows"] = 0
    data["expectations"][1]["type"] = "ExpectColumnValuesToNotBeNull"
    data["id"] = "written by GX, not ours to judge"
    path = write_suite(tmp_path, data, "bad.json")
    with pytest.raises(DeclarationError) as error:
        parse_suite(path)
    assert [line.split(" ", 2)[:2] for line in error.value.problems] == [
        [f"{path}:", "field"], [f"{path}:", "field"], [f"{path}:", "field"],
    ]
    assert [line.split("'")[1] for line in error.value.problems] == [
        "meta.atlas.blocking", "meta.atlas.sample_rows", "expectations[1].type",
    ]
    assert error.value.problems[1].endswith("field 'meta.atlas.sample_rows' must be >= 1, got 0")
