"""Forecast quality on generated series with a known trend and weekly seasonality: the chosen
model beats the weekly seasonal naive forecast (MASE < 1) out of sample, and 80 % intervals cover
about 80 % of held-out days. Seeded; 12 series × 28 held-out days = 336 points, so the coverage
estimate has a standard error of about 2 points (the 70–90 % band is ±4.6 standard errors)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atlas_pipeline.lib.forecast.forecasting import forecast_daily_series

pytestmark = pytest.mark.slow  # 12 series fitted and backtested

SERIES = 12
HISTORY_DAYS = 140
HELD_OUT_DAYS = 28
WEEKLY = np.array([0.0, 4.0, 6.0, 5.0, 2.0, -25.0, -30.0])  # Monday .. Sunday: weekend dip


def generated(seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-01-06", periods=HISTORY_DAYS + HELD_OUT_DAYS, freq="D")  # a Monday
    level = rng.uniform(150, 400)
    slope = rng.uniform(0.5, 1.5)
    t = np.arange(len(index))
    values = level + slope * t + WEEKLY[index.dayofweek] * rng.uniform(0.8, 1.2) + rng.normal(0, 6, len(index))
    return pd.Series(values, index=index)


def test_chosen_model_beats_seasonal_naive_and_80_percent_intervals_are_calibrated():
    inside, model_errors, naive_errors = [], [], []
    for seed in range(SERIES):
        y = generated(seed)
        history, held_out = y.iloc[:HISTORY_DAYS], y.iloc[HISTORY_DAYS:].to_numpy()
        result = forecast_daily_series(history, horizon_days=HELD_OUT_DAYS, coverages=(0.8, 0.95))
        assert result.model_name is not None and result.model_name != "seasonal_naive_7"
        chosen = result.backtest_metrics[result.model_name]
        assert chosen["mase"] < 1  # in the stored backtest
        frame = result.frame
        inside.append((held_out >= frame["lower_80"].to_numpy()) & (held_out <= frame["upper_80"].to_numpy()))
        model_errors.append(np.abs(held_out - frame["point"].to_numpy()))
        # The weekly seasonal naive forecast: the last observed week repeated.
        last_week = history.iloc[-7:].to_numpy()
        naive_errors.append(np.abs(held_out - np.tile(last_week, HELD_OUT_DAYS // 7)))
    coverage = float(np.concatenate(inside).mean())
    mase = float(np.concatenate(model_errors).mean() / np.concatenate(naive_errors).mean())
    assert mase < 1, mase
    assert 0.70 <= coverage <= 0.90, coverage
