"""Delivering the FOCUS spec's SaaS scenario files the way the `saas_focus` source expects them
(saas/focus/<vendor>/<YYYY-MM>/*.csv), shared by the SaaS scenario and real-sample tests."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

SCENARIOS = Path(__file__).parents[1] / "fixtures" / "billing" / "focus_spec_v1.2_scenarios"


def money(text: str | None) -> Decimal | None:
    """The spec's money text as a number: `"$10,000.00 "` is 10000.00 (a spreadsheet's US format)."""
    text = (text or "").strip().replace("$", "").replace(",", "")
    return Decimal(text) if text else None


def spec_time(text: str | None) -> datetime | None:
    """The spec's `5/1/25` is 1 May 2025 (US month/day/year), UTC."""
    text = (text or "").strip()
    return datetime.strptime(text, "%m/%d/%y").replace(tzinfo=UTC) if text else None


def billing_period(text: str) -> str:
    return spec_time(text).strftime("%Y-%m")


def deliver_by_billing_period(vendors: Path, stem: str, vendor: str | None = None) -> list[Path]:
    """Write scenario `stem` as its vendor delivers it: one file per billing period, in
    `<vendors>/<vendor>/<YYYY-MM>/<stem>.csv`, header and every line's bytes unchanged."""
    lines = (SCENARIOS / f"{stem}.csv").read_bytes().splitlines(keepends=True)
    header, body = lines[0], [ln for ln in lines[1:] if ln.strip()]
    names = next(csv.reader([header.decode("utf-8-sig")]))
    by_period: dict[str, list[bytes]] = defaultdict(list)
    for line in body:
        values = dict(zip(names, next(csv.reader([line.decode()])), strict=True))
        by_period[billing_period(values["BillingPeriodStart"])].append(line)
    written = []
    for period, period_lines in by_period.items():
        folder = vendors / (vendor or stem) / period
        folder.mkdir(parents=True)
        (folder / f"{stem}.csv").write_bytes(header + b"".join(period_lines))
        written.append(folder / f"{stem}.csv")
    return written
