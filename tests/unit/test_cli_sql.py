"""`atlas sql` prints query results from the warehouse and never writes to it."""

from __future__ import annotations

import json

import pytest

from atlas_pipeline.cli import main
from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse import connect


@pytest.fixture()
def warehouse():
    paths = AtlasPaths.from_env().ensure()
    with connect(paths.warehouse) as con:
        con.execute("create table costs (provider varchar, cost decimal(38, 12))")
        con.execute("insert into costs values ('aws', 12.345), ('gcp', 0.000000000001)")
    return paths.warehouse


def test_table_csv_and_json_formats(warehouse, capsys):
    assert main(["sql", "select provider, cost from costs order by 1", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "provider,cost", "aws,12.345000000000", "gcp,1E-12",
    ]
    assert main(["sql", "select provider, cost from costs order by 1", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0] == {"provider": "aws", "cost": "12.345000000000"}  # exact decimal, not a float
    assert main(["sql", "select count(*) as n from costs"]) == 0
    assert "2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "statement",
    ["insert into costs values ('azure', 1)", "drop table costs", "create table x (a int)", "delete from costs"],
)
def test_writes_are_refused(warehouse, capsys, statement):
    assert main(["sql", statement]) == 1
    assert "read-only" in capsys.readouterr().err.lower()
    with connect(warehouse, read_only=True) as con:
        assert con.execute("select count(*) from costs").fetchone()[0] == 2


def test_missing_warehouse_says_what_to_do(capsys):
    assert main(["sql", "select 1"]) == 2
    assert "make run" in capsys.readouterr().err
