"""Declared GPU-hour prices for clusters without a cloud bill (`assets/gpu_pricing.yaml`).

Parsed once into typed rows (prices as Decimal, never float) and written to `raw.gpu_pricing`,
which the GPU cost allocation reads for on-prem clusters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import yaml


class PricingError(ValueError):
    """The pricing file is wrong; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class GpuPrice:
    cluster: str
    price_per_gpu_hour: Decimal
    currency: str
    effective_from: date
    note: str = ""


def load_gpu_pricing(path: Path) -> list[GpuPrice]:
    """Parse the pricing declaration; errors name the file, entry and field."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as exc:
        raise PricingError(f"{path}: not valid YAML: {exc}") from exc
    currency = str(data.get("currency") or "USD")
    prices = []
    for i, entry in enumerate(data.get("clusters") or []):
        where = f"{path}: clusters[{i}]"
        if not isinstance(entry, dict) or not entry.get("cluster"):
            raise PricingError(f"{where}: field 'cluster' is required")
        # Prices are written as text so they parse exactly; a YAML float would already be rounded.
        raw = entry.get("price_per_gpu_hour")
        if isinstance(raw, float):
            raise PricingError(f"{where}: field 'price_per_gpu_hour' must be quoted text, e.g. \"1.85\"")
        try:
            price = Decimal(str(raw))
        except (InvalidOperation, TypeError) as exc:
            raise PricingError(f"{where}: field 'price_per_gpu_hour' is not a number: {raw!r}") from exc
        if not price.is_finite() or price < 0:
            raise PricingError(f"{where}: field 'price_per_gpu_hour' must be >= 0, got {raw!r}")
        start = entry.get("effective_from") or date(1970, 1, 1)
        if not isinstance(start, date):
            raise PricingError(f"{where}: field 'effective_from' must be a date (YYYY-MM-DD), got {start!r}")
        prices.append(GpuPrice(str(entry["cluster"]), price, currency, start, str(entry.get("note") or "")))
    return prices


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
