"""Declared GPU-hour prices for clusters without a cloud bill (`assets/gpu_pricing.yaml`).

Validated once by a pydantic model into typed rows (prices as Decimal, never float) and written to `raw.gpu_pricing`,
which the GPU cost allocation reads for on-prem clusters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
from pydantic import ValidationInfo, field_validator

from atlas_pipeline.lib.declarations import Declaration, DeclarationError, read_declaration, validate_declaration


class PricingError(DeclarationError):
    """The pricing file is wrong; each line names the file, the entry and the field."""


@dataclass(frozen=True)
class GpuPrice:
    cluster: str
    price_per_gpu_hour: Decimal
    currency: str
    effective_from: date
    note: str = ""


_EPOCH = date(1970, 1, 1)  # no effective_from: the price has always applied


class GpuPriceDeclaration(Declaration):
    """One entry of `clusters:` in `gpu_pricing.yaml`."""

    cluster: str
    price_per_gpu_hour: Decimal
    effective_from: date = _EPOCH
    note: str = ""

    @field_validator("cluster", mode="before")
    @classmethod
    def _cluster(cls, value: object) -> object:
        if value is None or value == "":
            raise ValueError("is required")
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("price_per_gpu_hour", mode="before")
    @classmethod
    def _price(cls, raw: object) -> Decimal:
        # Prices are written as text so they parse exactly; a YAML float would already be rounded.
        if isinstance(raw, float):
            raise ValueError('must be quoted text, e.g. "1.85"')
        try:
            price = Decimal(str(raw)) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
        except InvalidOperation:
            price = None
        if price is None:
            raise ValueError(f"is not a number: {raw!r}")
        if not price.is_finite() or price < 0:
            raise ValueError(f"must be >= 0, got {raw!r}")
        return price

    @field_validator("effective_from", "note", mode="before")
    @classmethod
    def _default_when_empty(cls, value: object, info: ValidationInfo) -> object:
        if value is None or value == "":
            return _EPOCH if info.field_name == "effective_from" else ""
        return value


class GpuPricingDeclaration(Declaration):
    """The shape of `gpu_pricing.yaml`: one currency, a price per cluster."""

    currency: str = "USD"
    clusters: list[GpuPriceDeclaration] = []

    @field_validator("currency", "clusters", mode="before")
    @classmethod
    def _default_when_empty(cls, value: object, info: ValidationInfo) -> object:
        if value is None or value == "":
            return "USD" if info.field_name == "currency" else []
        return value


def load_gpu_pricing(path: Path) -> list[GpuPrice]:
    """Parse the pricing declaration (an empty file: no prices); a PricingError lists every problem,
    naming the file, the entry and the field."""
    data = read_declaration(path)
    try:
        declared = validate_declaration(GpuPricingDeclaration, {} if data is None else data, path)
    except DeclarationError as exc:
        raise PricingError(*exc.problems) from None
    return [
        GpuPrice(entry.cluster, entry.price_per_gpu_hour, declared.currency, entry.effective_from, entry.note)
        for entry in declared.clusters
    ]


def write_gpu_pricing(con: duckdb.DuckDBPyConnection, prices: list[GpuPrice]) -> int:
    """Replace `raw.gpu_pricing` with `prices`; returns the row count."""
    con.execute("create schema if not exists raw")
    con.execute(
        "create or replace table raw.gpu_pricing (cluster varchar, price_per_gpu_hour decimal(38, 12), "
        "currency varchar, effective_from date, note varchar)"
    )
    if prices:  # no declared price is a valid estate (cloud-only, or on-prem not priced yet)
        con.executemany(
            "insert into raw.gpu_pricing values (?, ?, ?, ?, ?)",
            [(p.cluster, p.price_per_gpu_hour, p.currency, p.effective_from, p.note) for p in prices],
        )
    return len(prices)
