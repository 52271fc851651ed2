"""How `atlas sql` shows money: amounts rounded to cents (half away from zero, DuckDB's decimal
rounding), because DECIMAL(38, 12) sums print as `273107.471836400000` otherwise.

A money column is a DECIMAL with more than two decimal places whose name is not a unit price, a
rate or a quantity (those keep every digit: a GPU-second costs a fraction of a cent, an FX rate
has eight places). `--exact` shows every column as stored.
"""

from __future__ import annotations

import re

import duckdb

# Decimals that are not amounts of money: per-unit prices, rates, ratios, quantities.
_NOT_MONEY = re.compile(r"(price|rate|ratio|share|percent|pct|quantity|qty|factor|probability|hours|seconds|kwh|usage)",
                        re.IGNORECASE)
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)", re.IGNORECASE)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def is_money(name: str, type_name: str) -> bool:
    """A DECIMAL column with more than 2 places whose name is not a price, rate or quantity."""
    match = _DECIMAL.fullmatch(type_name.strip())
    return bool(match) and int(match.group(2)) > 2 and not _NOT_MONEY.search(name)


def money_columns(relation: duckdb.DuckDBPyRelation) -> list[str]:
    return [c for c, t in zip(relation.columns, relation.types, strict=True) if is_money(c, str(t))]


def rounded(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The relation with its money columns rounded to cents (DECIMAL(38, 2)); the others as they are.
    A result with duplicate column names cannot be projected by name: it is returned unchanged."""
    columns = relation.columns
    if len({c.lower() for c in columns}) != len(columns):
        return relation
    money = set(money_columns(relation))
    exprs = [f"cast(round({_quote(c)}, 2) as decimal(38, 2)) as {_quote(c)}" if c in money else _quote(c) for c in columns]
    return relation.project(", ".join(exprs))
