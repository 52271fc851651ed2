"""A legacy CUR CSV of any size, resampled from the real anonymized rows in
tests/fixtures/billing/aws_legacy_cur_2023-11_anonymized.csv (1,281 rows × 94 columns, November 2023;
MIT, finopsfoundation/focus_converters — see that folder's README).

Each output row is a real row, drawn at random, with what must differ between line items varied:
- `identity/LineItemId` is unique;
- the usage day moves within November 2023 (the sample covers the 1st–14th; daily and hourly rows
  keep their hour and length; month-long rows such as Tax keep the whole month);
- `lineItem/UsageAccountId` is one of a few linked accounts of the same payer;
- the amounts are the real amounts times a small whole factor, computed in exact decimal and
  written as text (`1.46E-8` × 3 = `4.38E-8`); rates stay as written, so cost = rate × amount
  still holds where it held;
- three cost-allocation tag columns (`resourceTags/user:team`, `user:project`, `user:environment`),
  as a report with activated tags has, on about two thirds of the Usage rows.

Deterministic for a seed. Used by bench/focus_peer.py (Atlas beside focus-converter) and its smoke test.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "billing" / "aws_legacy_cur_2023-11_anonymized.csv"
PERIOD = "2023-11"
# Amounts a usage line item scales with; rates (…Rate columns) stay as written.
SCALED = (
    "lineItem/UsageAmount",
    "lineItem/NormalizedUsageAmount",
    "lineItem/UnblendedCost",
    "lineItem/BlendedCost",
    "pricing/publicOnDemandCost",
)
TAGS = {
    "resourceTags/user:team": ("data-platform", "ml-research", "web", "payments", "search"),
    "resourceTags/user:project": ("atlas", "lakehouse", "checkout", "recsys", "observability", "etl"),
    "resourceTags/user:environment": ("prod", "staging", "dev"),
}
LINKED_ACCOUNTS = ("123412340534", "210987654321", "334455667788", "400500600700", "512345678901", "998877665544")
_FORMATS = ("%Y-%m-%dT%H:%M:%S.000Z", "%Y-%m-%dT%H:%M:%SZ")


@cache
def _shift(text: str, days: int) -> str:
    """An AWS timestamp (`2023-11-04T23:00:00.000Z` or `…:00Z`) moved by whole days, same spelling."""
    for fmt in _FORMATS:
        try:
            return (datetime.strptime(text, fmt) + timedelta(days=days)).strftime(fmt)
        except ValueError:
            continue
    return text


def write_legacy_cur(path: Path, rows: int, seed: int = 17) -> Path:
    """Write `rows` resampled line items (header first) to `path` (plain CSV, as AWS writes it)."""
    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        header, *sample = list(csv.reader(handle))
    col = {name: i for i, name in enumerate(header)}
    start, end = col["lineItem/UsageStartDate"], col["lineItem/UsageEndDate"]
    interval, line_id, account = col["identity/TimeInterval"], col["identity/LineItemId"], col["lineItem/UsageAccountId"]
    kind = col["lineItem/LineItemType"]
    scaled = [col[c] for c in SCALED if c in col]
    rng = random.Random(seed)
    # Whole days each row can move and stay inside November (end exclusive: up to Dec 1 00:00).
    room = []
    for row in sample:
        last = datetime.strptime(row[end][:19], "%Y-%m-%dT%H:%M:%S")
        room.append(max((datetime(2023, 12, 1) - last).days, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*header, *TAGS])
        for n in range(rows):
            i = rng.randrange(len(sample))
            row = list(sample[i])
            row[line_id] = f"{n:012x}{row[line_id][12:]}"
            days = rng.randint(0, room[i])
            if days:
                row[start], row[end] = _shift(row[start], days), _shift(row[end], days)
                begin, _, finish = row[interval].partition("/")
                row[interval] = f"{_shift(begin, days)}/{_shift(finish, days)}"
            if row[kind] == "Usage":
                row[account] = LINKED_ACCOUNTS[rng.randrange(len(LINKED_ACCOUNTS))]
                factor = rng.randint(1, 40)
                for c in scaled:
                    if row[c]:
                        row[c] = str(Decimal(row[c]) * factor)
                tags = [rng.choice(v) if rng.random() < 0.67 else "" for v in TAGS.values()]
            else:
                tags = [""] * len(TAGS)
            writer.writerow([*row, *tags])
    return path
