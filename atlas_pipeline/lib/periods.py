"""Periods, in one place: every period is a half-open [start, end) of UTC dates (the end exclusive).

- a partition key's period: `'YYYY-MM'` (a billing month) or `'YYYY-MM-DD'` (a telemetry day);
- the calendar month or quarter containing a day (forecasts' period-end projections);
- the month a forecast-dated partition reports on (budgets).
"""

from __future__ import annotations

import re
from datetime import date, timedelta


def _add_months(start: date, months: int) -> date:
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def key_period(key: str) -> tuple[date, date] | None:
    """[start, end) of a partition / landing period key: 'YYYY-MM' is a month, 'YYYY-MM-DD' a day,
    anything else (e.g. 'all') none."""
    if re.fullmatch(r"\d{4}-\d{2}", key):
        start = date(int(key[:4]), int(key[5:7]), 1)
        return start, _add_months(start, 1)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", key):
        day = date.fromisoformat(key)
        return day, day + timedelta(days=1)
    return None


def calendar_period(day: date, period: str) -> tuple[date, date]:
    """[start, end) of the calendar month or quarter containing `day`."""
    if period == "month":
        return day.replace(day=1), _add_months(day.replace(day=1), 1)
    if period == "quarter":
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return start, _add_months(start, 3)
    raise ValueError(f"period must be 'month' or 'quarter', got {period!r}")


def budget_month(as_of: date) -> tuple[date, date]:
    """The month a forecast partition reports on: the one holding its last history day (the day
    before the as-of date), so the partition for the 1st reports the month just closed."""
    return calendar_period(as_of - timedelta(days=1), "month")
