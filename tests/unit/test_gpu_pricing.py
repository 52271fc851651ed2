"""Declared on-prem GPU prices: exact decimals, errors that name the file, entry and field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.ingest.gpu_pricing import PricingError, load_gpu_pricing, write_gpu_pricing
from atlas_pipeline.lib.settings import DECLARATIONS_DIR


def test_declared_prices_parse_exactly_and_land_as_decimal(tmp_path: Path) -> None:
    prices = load_gpu_pricing(DECLARATIONS_DIR / "gpu_pricing.yaml")
    assert [(p.cluster, p.price_per_gpu_hour, p.currency) for p in prices] == [("onprem-lab", Decimal("1.85"), "USD")]
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert write_gpu_pricing(con, prices) == 1
    assert write_gpu_pricing(con, prices) == 1  # replaces, never appends
    assert con.execute("select cluster, price_per_gpu_hour, effective_from from raw.gpu_pricing").fetchall() == [
        ("onprem-lab", Decimal("1.850000000000"), date(2024, 1, 1))
    ]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("- cluster: lab\n    price_per_gpu_hour: 1.85", "must be quoted text"),
        ("- cluster: lab\n    price_per_gpu_hour: \"-1\"", "must be >= 0"),
        ("- cluster: lab\n    price_per_gpu_hour: \"abc\"", "is not a number"),
        ("- price_per_gpu_hour: \"1\"", "field 'cluster' is required"),
        ("- cluster: lab\n    price_per_gpu_hour: \"1\"\n    effective_from: soon", "must be a date"),
    ],
)
def test_bad_declarations_name_file_entry_and_field(
    tmp_path: Path, entry: str, problem: str, declaration_error
) -> None:
    path = tmp_path / "gpu_pricing.yaml"
    err = declaration_error(load_gpu_pricing, path, "currency: USD\nclusters:\n  " + entry + "\n", PricingError)
    assert str(path) in str(err) and "clusters[0]" in str(err) and problem in str(err)


def test_every_bad_entry_is_listed_and_an_empty_file_is_no_prices(tmp_path: Path, declaration_error) -> None:
    path = tmp_path / "gpu_pricing.yaml"
    err = declaration_error(
        load_gpu_pricing, path,
        "clusters:\n"
        "  - {cluster: a, price_per_gpu_hour: 1.5}\n"
        "  - {cluster: b, price_per_gpu_hour: '2', colour: red}\n"
        "  - {cluster: 42, price_per_gpu_hour: '3', effective_from: 2026-02-01}\n",
        PricingError,
    )
    assert err.problems == [
        f"{path}: clusters[0]: field 'price_per_gpu_hour' must be quoted text, e.g. \"1.85\"",
        f"{path}: clusters[1]: field 'colour' is not known "
        "(expected one of cluster, price_per_gpu_hour, effective_from, note)",
    ]
    path.write_text("clusters:\n  - {cluster: 42, price_per_gpu_hour: '3', effective_from: 2026-02-01}\n")
    assert load_gpu_pricing(path)[0].cluster == "42" and load_gpu_pricing(path)[0].currency == "USD"
    path.write_text("")
    assert load_gpu_pricing(path) == []
