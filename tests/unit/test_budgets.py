"""Budgets without a warehouse: anomaly severity and the overrun probability (pure arithmetic), and
`budgets.yaml` read from the user's folder, every problem named by file, budget and field. The
budget status and anomaly assets themselves: tests/dagster/test_anomalies_and_budgets.py."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from atlas_pipeline.defs.forecast.anomalies import severity_of
from atlas_pipeline.lib.forecast.budgets import load_budgets, overrun_probability


def test_severity_and_overrun_probability():
    assert severity_of(50.0, 100.0) == (0.5, "medium")
    assert severity_of(-100.0, 100.0) == (1.0, "high")
    assert severity_of(10.0, 100.0) == (0.1, "low")
    assert severity_of(5.0, 0.0) == (None, "high")
    # Already over with no days left: certain; far under with a narrow interval: ~0.
    assert overrun_probability(Decimal("120"), [], [], Decimal("100")) == 1.0
    assert overrun_probability(Decimal("10"), [1.0] * 5, [(0.9, 1.1)] * 5, Decimal("100")) < 1e-6
    # Projected exactly at the budget: a coin flip.
    assert overrun_probability(Decimal("95"), [1.0] * 5, [(0.0, 2.0)] * 5, Decimal("100")) == pytest.approx(0.5)


def test_budget_declaration_errors_name_file_budget_and_field(tmp_path: Path, declaration_error):
    path = tmp_path / "budgets.yaml"
    error = declaration_error(
        load_budgets, path, "budgets:\n  - {name: a, scope: provider, value: X, amount: 12.5, currency: USD}\n")
    assert re.search(r"budgets.yaml: budget #1: field 'amount' must be a quoted decimal", str(error))
    error = declaration_error(
        load_budgets, path, "budgets:\n  - {name: a, scope: region, value: X, amount: '1', currency: USD}\n")
    assert re.search(r"budget #1: field 'scope' must be one of provider, service, team", str(error))


def test_budget_declaration_lists_every_problem(tmp_path: Path, declaration_error):
    path = tmp_path / "budgets.yaml"
    assert declaration_error(
        load_budgets, path,
        "budgets:\n"
        "  - {name: a, scope: region, value: X, amount: 12.5, currency: USD}\n"
        "  - {name: b, scope: team, value: web, amount: '-1', currency: USD, colour: red}\n"
        "  - {name: c, scope: team, value: web, amount: '5', currency: USD}\n",
    ).problems == [
        f"{path}: budget #1: field 'scope' must be one of provider, service, team, got 'region'",
        f"{path}: budget #1: field 'amount' must be a quoted decimal, e.g. \"12000.00\"",
        f"{path}: budget #2: field 'amount' must be positive, got '-1'",
        f"{path}: budget #2: field 'colour' is not known (expected one of name, scope, value, amount, currency)",
    ]
    assert declaration_error(
        load_budgets, path,
        "budgets:\n"
        "  - {name: a, scope: team, value: ' ', amount: '1', currency: USD}\n"
        "  - {name: b, scope: team, value: web, amount: '5', currency: USD}\n"
        "  - {name: b, scope: team, value: ml, amount: x, currency: USD}\n"
        "  - {name: b, scope: team, value: ml, amount: '7'}\n",
    ).problems == [
        f"{path}: budget #1: field 'value' must be a non-empty string",
        f"{path}: budget #3: field 'amount' is not a number: 'x'",
        f"{path}: budget #4: field 'currency' is required",
    ]
    error = declaration_error(
        load_budgets, path, "budgets:\n" + "  - {name: b, scope: team, value: web, amount: '5', currency: USD}\n" * 2)
    assert re.search(f"{path}: budget name 'b' is declared twice", str(error))


def test_budgets_come_from_atlas_assets_and_none_there_means_no_budgets(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("ATLAS_ASSETS", str(tmp_path))
    assert load_budgets() == ()  # the repository's sample budgets are not the user's
    (tmp_path / "budgets.yaml").write_text("")
    assert load_budgets() == ()
    (tmp_path / "budgets.yaml").write_text(
        "budgets:\n  - {name: lab, scope: team, value: ml, amount: '100.10', currency: EUR}\n"
    )
    [budget] = load_budgets()
    assert (budget.name, budget.amount, budget.currency) == ("lab", Decimal("100.10"), "EUR")
