"""`atlas sql` prints query results from the warehouse and never writes to it; money is rounded to
cents unless `--exact`; `atlas tables` lists what people query with descriptions and row counts;
`atlas --version` says which Atlas and engines these are."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from atlas_pipeline.cli import main
from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse.connections import connect
from atlas_pipeline.lib.warehouse.sql_output import is_money


@pytest.fixture()
def warehouse():
    paths = AtlasPaths.from_env().ensure()
    with connect(paths.warehouse) as con:
        con.execute("create table costs (provider varchar, cost decimal(38, 12), ListUnitPrice decimal(38, 12))")
        con.execute("insert into costs values ('aws', 12.345, 0.000123), ('gcp', 0.000000000001, 0.5), "
                    "('azure', -2.345, null)")
        con.execute("comment on table costs is 'Cost per provider. A second sentence.'")
        con.execute("create schema reports")
        con.execute("create view reports.rpt_costs as select provider, cost from costs")
        con.execute("create schema staging")
        con.execute("create view staging.stg_costs as select * from costs")
    return paths.warehouse


def test_money_is_rounded_to_cents_half_away_from_zero_unless_exact(warehouse, capsys):
    query = "select provider, cost, ListUnitPrice from costs order by 1"
    assert main(["sql", query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "provider,cost,ListUnitPrice",
        "aws,12.35,0.000123000000",  # a unit price keeps every digit: a fraction of a cent matters
        "azure,-2.35,",
        "gcp,0.00,0.500000000000",
    ]
    assert main(["sql", query, "--format", "csv", "--exact"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "aws,12.345000000000,0.000123000000"
    assert lines[3] == "gcp,0.000000000001,0.500000000000"  # plain digits, never 1E-12


def test_json_keeps_exact_decimals_as_strings(warehouse, capsys):
    assert main(["sql", "select provider, sum(cost) as billed from costs group by 1 order by 1", "-f", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0] == {"provider": "aws", "billed": "12.35"}  # a string: exact, not a float
    assert main(["sql", "select sum(cost) as billed from costs", "--format", "json", "--exact"]) == 0
    assert Decimal(json.loads(capsys.readouterr().out)[0]["billed"]) == Decimal("10.000000000001")


def test_table_format_rounds_too(warehouse, capsys):
    assert main(["sql", "select cost from costs where provider = 'aws'"]) == 0
    out = capsys.readouterr().out
    assert "12.35" in out and "12.345" not in out


@pytest.mark.parametrize(("name", "kind", "money"), [
    ("BilledCost", "DECIMAL(38,12)", True), ("billed", "DECIMAL(38,12)", True), ("point", "DECIMAL(38,6)", True),
    ("ListUnitPrice", "DECIMAL(38,12)", False), ("x_fx_rate", "DECIMAL(18,8)", False),
    ("ConsumedQuantity", "DECIMAL(38,12)", False), ("cost", "DECIMAL(18,2)", False), ("cost", "DOUBLE", False),
])
def test_what_counts_as_money(name, kind, money):
    assert is_money(name, kind) is money


@pytest.mark.parametrize(
    "statement",
    ["insert into costs values ('azure', 1, 1)", "drop table costs", "create table x (a int)", "delete from costs"],
)
def test_writes_are_refused(warehouse, capsys, statement):
    assert main(["sql", statement]) == 1
    assert "read-only" in capsys.readouterr().err.lower()
    with connect(warehouse, read_only=True) as con:
        assert con.execute("select count(*) from costs").fetchone()[0] == 3


def test_missing_warehouse_says_what_to_do(capsys):
    assert main(["sql", "select 1"]) == 2
    assert "make run" in capsys.readouterr().err


def test_tables_lists_what_people_query_with_descriptions_and_rows(warehouse, capsys):
    assert main(["tables"]) == 0
    out = capsys.readouterr().out
    costs = next(line for line in out.splitlines() if line.startswith("costs"))
    assert "table" in costs and "3" in costs and "Cost per provider." in costs and "second sentence" not in costs
    assert any(line.startswith("reports.rpt_costs") and "3" in line for line in out.splitlines())
    assert "stg_costs" not in out  # staging is there with --all, uncounted
    assert main(["tables", "--all"]) == 0
    staged = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("staging.stg_costs"))
    assert "view" in staged and "–" in staged


def test_version_names_atlas_and_its_engines(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("atlas 0.") and "dagster" in out and "dbt-core" in out and "duckdb" in out


def test_unknown_options_are_usage_errors(capsys):
    assert main(["sql"]) == 2
    assert "Missing argument" in capsys.readouterr().err
