"""Monthly budgets declared in `budgets.yaml` of the declarations folder (`$ATLAS_ASSETS`, else the
repository's `assets/`), parsed into typed objects, and the overrun probability of a projected
month end."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from statistics import NormalDist
from typing import Literal

from pydantic import field_validator

from atlas_pipeline.lib.declarations import Declaration, DeclarationError, read_declaration, validate_declaration
from atlas_pipeline.lib.forecast.forecast_settings import SERIES_COLUMNS
from atlas_pipeline.lib.settings import declaration_file

BUDGETS_FILE_NAME = "budgets.yaml"
# A budget is scoped like a forecast series; "team" is the `team` cost-allocation tag.
BUDGET_SCOPES = ("provider", "service", "team")


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


class BudgetDeclaration(Declaration):
    """One entry of `budgets.yaml`."""

    name: str
    scope: Literal[BUDGET_SCOPES]  # type: ignore[valid-type]
    value: str
    amount: Decimal
    currency: str

    @field_validator("name", "value", "currency")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("must be a non-empty string")
        return text

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, raw: object) -> Decimal:
        # Amounts are quoted strings (or ints) so YAML never turns them into binary floats.
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise ValueError('must be a quoted decimal, e.g. "12000.00"')
        try:
            amount = Decimal(str(raw))
        except InvalidOperation:
            raise ValueError(f"is not a number: {raw!r}") from None
        if not amount.is_finite() or amount <= 0:
            raise ValueError(f"must be positive, got {raw!r}")
        return amount


class BudgetsDeclaration(Declaration):
    """The shape of `budgets.yaml`."""

    budgets: list[BudgetDeclaration]


def _budget_entry(_field: str, index: int) -> str:
    return f"budget #{index + 1}"


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
    declared = validate_declaration(BudgetsDeclaration, data, path, entry=_budget_entry)
    budgets = tuple(Budget(b.name, b.scope, b.value, b.amount, b.currency) for b in declared.budgets)
    names = [b.name for b in budgets]
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise DeclarationError(*(f"{path}: budget name {n!r} is declared twice" for n in twice))
    return budgets


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
