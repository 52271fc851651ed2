"""Monthly budgets declared in `budgets.yaml` of the declarations folder (`$ATLAS_ASSETS`, else the
repository's `assets/`), parsed into typed objects, and the overrun probability of a projected
month end."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from statistics import NormalDist

from atlas_pipeline.lib.forecast.forecast_settings import SERIES_COLUMNS
from atlas_pipeline.lib.ingest.sources import DeclarationError, read_declaration
from atlas_pipeline.lib.settings import declaration_file

BUDGETS_FILE_NAME = "budgets.yaml"
# A budget is scoped like a forecast series; "team" is the `team` cost-allocation tag.
BUDGET_SCOPES = ("provider", "service", "team")
_FIELDS = ("name", "scope", "value", "amount", "currency")


@dataclass(frozen=True)
class Budget:
    """A monthly budget: `amount` (billing currency `currency`) for the spend of one provider,
    service or team (tag) per calendar month."""

    name: str
    scope: str
    value: str
    amount: Decimal
    currency: str

    @property
    def column(self) -> str:
        """The `main.fct_cost_daily` column the scope filters on."""
        return SERIES_COLUMNS[self.scope]


def budgets_file() -> Path | None:
    """`budgets.yaml` of the declarations folder, resolved now; None when there is none (no budgets)."""
    return declaration_file(BUDGETS_FILE_NAME)


def load_budgets(path: Path | None = None) -> tuple[Budget, ...]:
    """Parse the budget declaration (default: `budgets_file()`; none, or an empty file, is no
    budgets). A DeclarationError lists every problem, naming the file, the budget (by position) and
    the field."""
    path = path or budgets_file()
    if path is None:
        return ()
    data = read_declaration(path)
    if data is None:
        return ()
    if not isinstance(data, dict) or not isinstance(data.get("budgets"), list):
        raise DeclarationError(f"{path}: expected a mapping with a list 'budgets'")
    budgets: list[Budget] = []
    problems: list[str] = []
    for position, entry in enumerate(data["budgets"], start=1):
        where = f"{path}: budget #{position}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a mapping of fields")
            continue
        found = [f"{where}: missing field {f!r} (fields: {', '.join(_FIELDS)})" for f in _FIELDS if f not in entry]
        found += [f"{where}: unknown field {f!r} (fields: {', '.join(_FIELDS)})" for f in sorted(set(entry) - set(_FIELDS))]
        if "scope" in entry and entry["scope"] not in BUDGET_SCOPES:
            found.append(f"{where}: field 'scope' must be one of {', '.join(BUDGET_SCOPES)}, got {entry['scope']!r}")
        for name in ("name", "value", "currency"):
            if name in entry and (not isinstance(entry[name], str) or not entry[name].strip()):
                found.append(f"{where}: field {name!r} must be a non-empty string")
        amount = _amount(where, entry["amount"], found) if "amount" in entry else None
        problems += found
        if not found and amount is not None:
            budgets.append(Budget(entry["name"], entry["scope"], entry["value"], amount, entry["currency"]))
    names = [b.name for b in budgets]
    problems += [f"{path}: budget name {n!r} is declared twice" for n in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        raise DeclarationError(*problems)
    return tuple(budgets)


def _amount(where: str, raw: object, problems: list[str]) -> Decimal | None:
    # Amounts are quoted strings (or ints) so YAML never turns them into binary floats.
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        problems.append(f"{where}: field 'amount' must be a quoted decimal, e.g. \"12000.00\"")
        return None
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        problems.append(f"{where}: field 'amount' is not a number: {raw!r}")
        return None
    if not amount.is_finite() or amount <= 0:
        problems.append(f"{where}: field 'amount' must be positive, got {raw!r}")
        return None
    return amount


# z of the two-sided 80 % interval: its half-width is 1.2816 standard deviations.
_Z80 = NormalDist().inv_cdf(0.9)


def overrun_probability(
    actual_to_date: Decimal, forecast_points: list[float], forecast_80: list[tuple[float, float]], budget: Decimal
) -> float:
    """P(month total > budget) under a normal approximation of the rest of the month.

    Each remaining day's standard deviation is read off its 80 % interval (half-width / 1.2816) and
    days are taken as independent, so the total's deviation is the root sum of squares. This ignores
    correlation between days (it understates the spread when errors persist) — a flag, not a promise.
    With no days left the outcome is known: 1 if already over, else 0.
    """
    projected = float(actual_to_date) + sum(forecast_points)
    variance = sum(((upper - lower) / (2 * _Z80)) ** 2 for lower, upper in forecast_80)
    if variance <= 0 or not math.isfinite(variance):
        return 1.0 if projected > float(budget) else 0.0
    return 1.0 - NormalDist(projected, math.sqrt(variance)).cdf(float(budget))
