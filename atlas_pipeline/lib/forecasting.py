"""Daily spend forecasts with prediction intervals (sktime). Pure functions: no Dagster, no DuckDB.

Model choice is a small expanding-window backtest (sktime `evaluate`) between a weekly seasonal
naive forecaster and Theta with weekly seasonality; the one with the lower mean absolute error
forecasts. Series with less history than `min_history_days` are refused with a stated reason.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

WEEK = 7


@dataclass(frozen=True)
class SeriesForecast:
    """A forecast for one series, or the reason there is none."""

    model_name: str | None
    refused_reason: str | None
    history_days: int
    backtest_mae: float | None = None
    frame: pd.DataFrame | None = None  # forecast_date, point, lower_NN, upper_NN per coverage


def _label(coverage: float) -> str:
    return f"{round(coverage * 100):02d}"


def _candidates() -> dict:
    from sktime.forecasting.naive import NaiveForecaster
    from sktime.forecasting.theta import ThetaForecaster

    return {
        "seasonal_naive_7": NaiveForecaster(strategy="last", sp=WEEK),
        "theta_7": ThetaForecaster(sp=WEEK),
    }


def _backtest_mae(forecaster, y: pd.Series, horizon: int) -> float:
    from sktime.forecasting.model_evaluation import evaluate
    from sktime.forecasting.model_selection import ExpandingWindowSplitter
    from sktime.performance_metrics.forecasting import MeanAbsoluteError

    fh = np.arange(1, horizon + 1)
    initial = max(2 * WEEK, len(y) - 3 * horizon)
    splitter = ExpandingWindowSplitter(initial_window=initial, step_length=horizon, fh=fh)
    results = evaluate(forecaster=forecaster, y=y, cv=splitter, scoring=MeanAbsoluteError())
    return float(results.filter(like="MeanAbsoluteError").iloc[:, 0].mean())


def forecast_daily_series(
    history: pd.Series,
    horizon_days: int,
    coverages: tuple[float, ...] = (0.8, 0.95),
    min_history_days: int = 28,
) -> SeriesForecast:
    """Forecast a daily series (DatetimeIndex; missing days are filled with 0 here).

    Lower bounds are clipped at 0: spend on these series (credits and purchases excluded) cannot
    be negative, and an interval below zero would only mislead.
    """
    history = history.astype(float).asfreq("D", fill_value=0.0) if len(history) else history
    days = len(history)
    if days < min_history_days:
        return SeriesForecast(
            None, f"only {days} days of history; need at least {min_history_days}", history_days=days
        )
    y = pd.Series(history.to_numpy(), index=pd.period_range(history.index[0], periods=days, freq="D"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = {}
        for name, forecaster in _candidates().items():
            try:
                scores[name] = _backtest_mae(forecaster, y, min(WEEK, horizon_days))
            except Exception:  # a candidate that cannot fit this series is simply not chosen
                continue
        if not scores:
            return SeriesForecast(None, "no candidate model could be fitted", history_days=days)
        name = min(scores, key=scores.get)
        forecaster = _candidates()[name]
        forecaster.fit(y)
        fh = np.arange(1, horizon_days + 1)
        point = forecaster.predict(fh=fh)
        intervals = forecaster.predict_interval(fh=fh, coverage=list(coverages))
    frame = pd.DataFrame({"forecast_date": point.index.to_timestamp().date, "point": point.to_numpy()})
    for coverage in coverages:
        lower = intervals.xs(("lower"), level=-1, axis=1).xs(coverage, level=-1, axis=1).iloc[:, 0].to_numpy()
        upper = intervals.xs(("upper"), level=-1, axis=1).xs(coverage, level=-1, axis=1).iloc[:, 0].to_numpy()
        frame[f"lower_{_label(coverage)}"] = np.clip(lower, 0, None)
        frame[f"upper_{_label(coverage)}"] = np.clip(upper, 0, None)
    frame["point"] = frame["point"].clip(lower=0)
    return SeriesForecast(name, None, history_days=days, backtest_mae=scores[name], frame=frame)


def forecast_frame(
    daily: pd.DataFrame,
    as_of: date,
    horizon_days: int,
    coverages: tuple[float, ...] = (0.8, 0.95),
    min_history_days: int = 28,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast every series in `daily` (columns series_key, day, value) from history before `as_of`.

    Returns (forecasts: one row per series × forecast date, status: one row per series).
    """
    forecasts, status = [], []
    history = daily[pd.to_datetime(daily["day"]) < pd.Timestamp(as_of)]
    for key, group in history.groupby("series_key", sort=True):
        series = group.set_index(pd.to_datetime(group["day"]))["value"].sort_index()
        # Days between the last cost and the as-of date are real zero-spend days.
        series = series.reindex(pd.date_range(series.index[0], pd.Timestamp(as_of) - pd.Timedelta(days=1)), fill_value=0)
        result = forecast_daily_series(series, horizon_days, coverages, min_history_days)
        status.append(
            {"series_key": key, "as_of_date": as_of, "history_days": result.history_days,
             "model_name": result.model_name, "backtest_mae": result.backtest_mae,
             "refused_reason": result.refused_reason}
        )
        if result.frame is not None:
            forecasts.append(result.frame.assign(series_key=key, as_of_date=as_of, model_name=result.model_name))
    columns = ["series_key", "as_of_date", "model_name", "forecast_date", "point"] + [
        f"{side}_{_label(c)}" for c in coverages for side in ("lower", "upper")
    ]
    out = pd.concat(forecasts, ignore_index=True)[columns] if forecasts else pd.DataFrame(columns=columns)
    return out, pd.DataFrame(status)
