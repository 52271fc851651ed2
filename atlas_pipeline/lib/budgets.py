"""Monthly budgets declared in `assets/budgets.yaml`, parsed once into typed objects, and the
overrun probability of a projected month end."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from statistics import NormalDist

from atlas_pipeline.lib.forecast_settings import SERIES_COLUMNS
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.sources import DeclarationError, read_declaration

BUDGETS_DECLARATION = DECLARATIONS_DIR / "budgets.yaml"
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


def load_budgets(path: Path = BUDGETS_DECLARATION) -> tuple[Budget, ...]:
    """Parse the budget declaration; every error names the file, the budget (by position) and the field."""
    data = read_declaration(path)
    if not isinstance(data, dict) or not isinstance(data.get("budgets"), list):
        raise DeclarationError(f"{path}: expected a mapping with a list 'budgets'")
    budgets: list[Budget] = []
    for position, entry in enumerate(data["budgets"], start=1):
        where = f"{path}: budget #{position}"
        if not isinstance(entry, dict):
            raise DeclarationError(f"{where}: expected a mapping of fields")
        missing = [f for f in _FIELDS if f not in entry]
        unknown = sorted(set(entry) - set(_FIELDS))
        if missing or unknown:
            problem = f"missing field {missing[0]!r}" if missing else f"unknown field {unknown[0]!r}"
            raise DeclarationError(f"{where}: {problem} (fields: {', '.join(_FIELDS)})")
        if entry["scope"] not in BUDGET_SCOPES:
            raise DeclarationError(
                f"{where}: field 'scope' must be one of {', '.join(BUDGET_SCOPES)}, got {entry['scope']!r}"
            )
        for name in ("name", "value", "currency"):
            if not isinstance(entry[name], str) or not entry[name].strip():
                raise DeclarationError(f"{where}: field {name!r} must be a non-empty string")
        # Amounts are quoted strings (or ints) so YAML never turns them into binary floats.
        if isinstance(entry["amount"], bool) or not isinstance(entry["amount"], str | int):
            raise DeclarationError(f"{where}: field 'amount' must be a quoted decimal, e.g. \"12000.00\"")
        try:
            amount = Decimal(str(entry["amount"]))
        except InvalidOperation as exc:
            raise DeclarationError(f"{where}: field 'amount' is not a number: {entry['amount']!r}") from exc
        if not amount.is_finite() or amount <= 0:
            raise DeclarationError(f"{where}: field 'amount' must be positive, got {entry['amount']!r}")
        budgets.append(Budget(entry["name"], entry["scope"], entry["value"], amount, entry["currency"]))
    names = [b.name for b in budgets]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise DeclarationError(f"{path}: budget name {duplicate!r} is declared twice")
    return tuple(budgets)


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
