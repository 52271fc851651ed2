"""Daily spend forecasts with prediction intervals (sktime). Pure functions: no Dagster, no DuckDB.

`forecast_daily_series` forecasts one daily series; `forecast_frame` runs it for every series of a
long frame as of a date. The model is chosen per series by a small expanding-window backtest
(sktime `evaluate` with an `ExpandingWindowSplitter`: MAE, MAPE, MASE against the weekly seasonal
naive forecast, interval coverage; lowest MASE wins) among three weekly-seasonal candidates:

- `seasonal_naive_7`: `NaiveForecaster(strategy="last", sp=7)` — repeats last week's shape;
- `theta_7`: `ThetaForecaster(sp=7)` — deseasonalised theta (drift plus exponential smoothing);
- `ets_aaa_7`: `AutoETS(error="add", trend="add", seasonal="add", sp=7)` — Holt-Winters state space.

All three give prediction intervals on sktime 1.2 / statsmodels 0.15 (the AAA configuration of
`AutoETS` uses the analytical intervals, not the simulation path that fails on some configurations).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from atlas_pipeline.lib.periods import calendar_period

if TYPE_CHECKING:
    from atlas_pipeline.lib.forecast.forecast_settings import ForecastSettings

WEEK = 7
# Backtests forecast up to four weeks ahead from up to three origins one week apart, each fold
# training on at least four weeks (enough for a weekly-seasonal ETS to initialise).
BACKTEST_HORIZON_DAYS = 28
BACKTEST_FOLDS = 3
BACKTEST_MIN_TRAIN_DAYS = 28
# Below this many days no weekly-seasonal model makes sense at all.
SMALLEST_MIN_HISTORY_DAYS = 2 * WEEK
# Without a backtest (too little history for one fold) the seasonal naive forecaster is used:
# it has no parameters to overfit.
FALLBACK_MODEL = "seasonal_naive_7"
# Forecasting runs in (at most two) worker processes only when there are this many series.
PARALLEL_MIN_SERIES = 8
MAX_JOBS = 2


def _naive_class():
    from sktime.forecasting.naive import NaiveForecaster

    return NaiveForecaster


def _theta_class():
    from sktime.forecasting.theta import ThetaForecaster

    return ThetaForecaster


def _ets_class():
    from sktime.forecasting.ets import AutoETS

    return AutoETS


# name -> (sktime class, loaded lazily so loading definitions does not import sktime; parameters).
# Candidate order breaks ties in backtest error: the simpler model wins.
CANDIDATES: dict[str, tuple[Callable[[], type], dict]] = {
    "seasonal_naive_7": (_naive_class, {"strategy": "last", "sp": WEEK}),
    "theta_7": (_theta_class, {"sp": WEEK}),
    "ets_aaa_7": (_ets_class, {"error": "add", "trend": "add", "seasonal": "add", "sp": WEEK}),
}


@dataclass(frozen=True)
class SeriesForecast:
    """A forecast for one series, or the reason there is none.

    `frame` has one row per forecast day: forecast_date (a `date`), point, and lower_NN / upper_NN
    per coverage (NN = coverage in percent, e.g. lower_80, upper_95), as floats.
    `backtest_scores` holds each candidate's backtest MAE (None: the candidate could not be fitted);
    it is empty when the history was too short for a backtest. `backtest_metrics` holds per
    candidate the full backtest: mae, mape (fraction, None where an actual is 0), mase (MAE relative
    to the weekly seasonal naive candidate on the same folds), coverage_NN per coverage, folds, points.
    """

    model_name: str | None
    refused_reason: str | None
    frame: pd.DataFrame | None = None
    history_days: int = 0
    backtest_mae: float | None = None
    backtest_scores: dict[str, float | None] = field(default_factory=dict)
    backtest_metrics: dict[str, dict | None] = field(default_factory=dict)


def coverage_label(coverage: float) -> str:
    """0.8 -> "80", 0.95 -> "95", 0.995 -> "99_5": the suffix of the interval columns."""
    percent = round(coverage * 100, 6)
    text = f"{percent:g}".replace(".", "_")
    return text if percent >= 10 else f"0{text}"


def interval_columns(coverages: Sequence[float]) -> list[str]:
    """lower_NN, upper_NN for each coverage, in the given order."""
    return [f"{side}_{coverage_label(c)}" for c in coverages for side in ("lower", "upper")]


@functools.cache
def _quiet_class(name: str) -> type:
    """The candidate's sktime class with `remember_data=False` as its config default.

    sktime 1.2 warns (FutureWarning) that the default of `remember_data` changes in 1.3 from every
    forecaster's `__init__` whose config still says True — including the clones `evaluate` makes —
    so `set_config(remember_data=False)` after construction comes too late. A subclass whose class
    config says False adopts the 1.3 default early (no copy of the training data is kept; these
    forecasters are never `update`d) and never emits the warning.
    """
    base = CANDIDATES[name][0]()
    return type(f"Atlas{base.__name__}", (base,), {"_config": {"remember_data": False}, "__module__": __name__})


def _new(name: str):
    return _quiet_class(name)(**CANDIDATES[name][1])


@contextmanager
def _quiet_sktime() -> Iterator[None]:
    """Scope sktime's warning-filter changes to the call and silence statsmodels' optimiser chatter.

    sktime 1.2's internal `_SuppressWarningPattern` leaves a `default` FutureWarning filter at the
    front of the global filter list on exit, overriding outside filters (pytest's, PYTHONWARNINGS):
    that is why `remember_data` warnings got through them. Inside this block the change is undone on
    exit. The `remember_data` filter is a second line behind `_quiet_class`.
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*remember_data.*", category=FutureWarning)
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        yield


def _backtest_windows(days: int, horizon_days: int) -> tuple[int, int, int] | None:
    """(initial_window, backtest horizon, folds) for `days` of history, or None when too short."""
    horizon = min(horizon_days, BACKTEST_HORIZON_DAYS)
    spare = days - BACKTEST_MIN_TRAIN_DAYS - horizon
    if spare < 0:
        return None
    folds = min(BACKTEST_FOLDS, 1 + spare // WEEK)
    return days - horizon - (folds - 1) * WEEK, horizon, folds


def _backtest(name: str, y: pd.Series, initial: int, horizon: int, coverages: Sequence[float]) -> dict:
    """One candidate's rolling-origin backtest: sktime `evaluate` over an expanding window.

    Returns MAE; MAPE (a fraction; None when an actual in the test windows is zero: undefined);
    the share of held-out points inside each coverage's interval (`coverage_NN`); folds and points.
    MASE is filled in by the caller, relative to the seasonal naive candidate on the same folds.
    """
    from sktime.forecasting.model_evaluation import evaluate
    from sktime.performance_metrics.forecasting import MeanAbsoluteError
    from sktime.performance_metrics.forecasting.probabilistic import EmpiricalCoverage
    from sktime.split import ExpandingWindowSplitter

    splitter = ExpandingWindowSplitter(initial_window=initial, step_length=WEEK, fh=np.arange(1, horizon + 1))
    results = evaluate(
        forecaster=_new(name),
        cv=splitter,
        y=y,
        # The coverage metric makes `evaluate` ask each fold for its prediction intervals too.
        scoring=[MeanAbsoluteError(), EmpiricalCoverage(coverage=list(coverages))],
        return_data=True,
        error_score="raise",
    )
    actual = np.concatenate([r.to_numpy(dtype=float) for r in results["y_test"]])
    predicted = np.concatenate([r.to_numpy(dtype=float) for r in results["y_pred"]])
    errors = np.abs(actual - predicted)
    mae = float(errors.mean())
    if not math.isfinite(mae):
        raise ValueError(f"{name}: backtest error is not finite")
    metrics: dict = {
        "mae": mae,
        "mape": None if (actual == 0).any() else float((errors / np.abs(actual)).mean()),
        "mase": None,
        "folds": len(results),
        "points": len(actual),
    }
    for coverage in coverages:
        inside = []
        for frame, truth in zip(results["y_pred_interval"], results["y_test"], strict=True):
            variable = frame.columns.get_level_values(0)[0]
            # Bounds clipped at 0 as in the published forecast (spend is not negative).
            lower = frame[(variable, coverage, "lower")].to_numpy(dtype=float).clip(min=0.0)
            upper = frame[(variable, coverage, "upper")].to_numpy(dtype=float).clip(min=0.0)
            values = truth.to_numpy(dtype=float)
            inside.append((values >= lower) & (values <= upper))
        metrics[f"coverage_{coverage_label(coverage)}"] = float(np.concatenate(inside).mean())
    return metrics


def _fit_predict(name: str, y: pd.Series, horizon_days: int, coverages: Sequence[float]) -> pd.DataFrame:
    forecaster = _new(name)
    forecaster.fit(y)
    fh = np.arange(1, horizon_days + 1)
    point = forecaster.predict(fh=fh)
    intervals = forecaster.predict_interval(fh=fh, coverage=list(coverages))
    variable = intervals.columns.get_level_values(0)[0]
    frame = pd.DataFrame({"forecast_date": [d.date() for d in point.index], "point": point.to_numpy(dtype=float)})
    for coverage in coverages:
        label = coverage_label(coverage)
        frame[f"lower_{label}"] = intervals[(variable, coverage, "lower")].to_numpy(dtype=float)
        frame[f"upper_{label}"] = intervals[(variable, coverage, "upper")].to_numpy(dtype=float)
    values = frame.drop(columns="forecast_date")
    if not np.isfinite(values.to_numpy()).all():
        raise ValueError(f"{name}: forecast is not finite")
    # Spend cannot be negative: clip everything at 0 (keeps lower <= point <= upper).
    frame[values.columns] = values.clip(lower=0.0)
    return frame


def forecast_daily_series(
    history: pd.Series,
    horizon_days: int,
    coverages: Sequence[float] = (0.8, 0.95),
    min_history_days: int = 28,
) -> SeriesForecast:
    """Forecast `horizon_days` days after the end of a daily spend series, with intervals.

    `history` has a DatetimeIndex of days; values may be `Decimal`, int or float (converted to float
    here, for the model only). Missing days between the first and last index day, and null values,
    are filled with 0 here: a day without cost rows is a day without spend. The forecast starts the
    day after the last index day.

    Refused (no model, `refused_reason` set) with fewer than `min_history_days` days. With enough
    history for a backtest (`BACKTEST_MIN_TRAIN_DAYS` + the backtest horizon of min(horizon, 28)
    days) every candidate is scored by expanding-window MAE over up to three folds one week apart,
    and the lowest error wins; a candidate that fails to fit, or whose forecast or intervals are not
    finite, gives way to the next best. With less, the seasonal naive forecaster is used unscored.

    Intervals are the chosen model's `predict_interval` at each coverage. Lower bounds (and, for
    consistency, points and upper bounds) are clipped at 0 because spend cannot be negative; the
    series should exclude credits and refunds for this to hold.
    """
    if horizon_days < 1:
        raise ValueError(f"horizon_days must be at least 1, got {horizon_days}")
    if min_history_days < SMALLEST_MIN_HISTORY_DAYS:
        raise ValueError(f"min_history_days must be at least {SMALLEST_MIN_HISTORY_DAYS} (two weeks)")
    if not all(0 < c < 1 for c in coverages):
        raise ValueError(f"coverages must be fractions between 0 and 1, got {list(coverages)}")
    y = _daily_floats(history)
    days = len(y)
    if days < min_history_days:
        return SeriesForecast(
            model_name=None,
            refused_reason=f"only {days} days of history; need at least {min_history_days}",
            history_days=days,
        )
    with _quiet_sktime():
        windows = _backtest_windows(days, horizon_days)
        metrics: dict[str, dict | None] = {}
        if windows is None:
            ranked = [FALLBACK_MODEL]
        else:
            initial, backtest_horizon, _ = windows
            for name in CANDIDATES:
                try:
                    metrics[name] = _backtest(name, y, initial, backtest_horizon, coverages)
                except Exception:  # a candidate that cannot fit this series is not chosen
                    metrics[name] = None
            naive = metrics.get(FALLBACK_MODEL)
            for m in metrics.values():
                if m is not None and naive is not None and naive["mae"] > 0:
                    m["mase"] = m["mae"] / naive["mae"]
            # Lowest MASE wins (the same order as MAE: all share the naive denominator).
            ranked = sorted((n for n, m in metrics.items() if m is not None), key=lambda n: metrics[n]["mae"])
            ranked = ranked or [FALLBACK_MODEL]
        scores = {n: (None if m is None else m["mae"]) for n, m in metrics.items()}
        problems = []
        for name in ranked:
            try:
                frame = _fit_predict(name, y, horizon_days, coverages)
            except Exception as exc:  # fall through to the next best candidate
                problems.append(f"{name}: {exc}")
                continue
            return SeriesForecast(
                model_name=name,
                refused_reason=None,
                frame=frame,
                history_days=days,
                backtest_mae=scores.get(name),
                backtest_scores=scores,
                backtest_metrics=metrics,
            )
    return SeriesForecast(
        model_name=None,
        refused_reason="no model could be fitted: " + "; ".join(problems),
        history_days=days,
        backtest_scores=scores,
        backtest_metrics=metrics,
    )


def _daily_floats(history: pd.Series) -> pd.Series:
    """The history as floats on a gap-free daily DatetimeIndex (missing days and nulls -> 0)."""
    if len(history) == 0:
        return pd.Series([], index=pd.DatetimeIndex([], freq="D"), dtype=float)
    index = pd.DatetimeIndex(history.index).normalize()
    values = pd.Series(pd.to_numeric(history.to_numpy(), errors="raise"), index=index, dtype=float)
    values = values.groupby(level=0).sum().sort_index()
    full = pd.date_range(values.index[0], values.index[-1], freq="D")
    return values.reindex(full, fill_value=0.0).fillna(0.0)


def forecast_frame(
    daily: pd.DataFrame,
    series_column: str,
    date_column: str,
    value_column: str,
    as_of: date,
    horizon_days: int,
    coverages: Sequence[float] = (0.8, 0.95),
    min_history_days: int = 28,
    n_jobs: int | None = None,
    with_metrics: bool = False,
) -> tuple[pd.DataFrame, ...]:
    """Forecast every series of a long frame as of `as_of`, from history strictly before it.

    `daily` has one or more rows per series and day (they are summed). Each series' history runs
    from its first day to the day before `as_of`; days without rows, including days after its last
    row, count as zero spend (so run a partition after the day before it has landed, and re-run it
    if late data arrives). Forecasts cover `as_of` .. `as_of + horizon_days - 1`.

    Returns
    - forecasts: series_key, as_of_date, model_name, forecast_date, point, lower_NN/upper_NN per
      coverage — one row per forecast series and day;
    - status: series_key, as_of_date, history_days, model_name, backtest_mae, refused_reason — one
      row per series with history before `as_of`.
    Both are sorted by series_key (and forecast_date). Series run in up to two worker processes
    when there are at least `PARALLEL_MIN_SERIES` of them (`n_jobs` overrides, capped at 2);
    the result does not depend on it.

    With `with_metrics`, a third frame holds the backtest per series and candidate: series_key,
    as_of_date, model_name, chosen, folds, points, mae, mape, mase, coverage_NN per coverage.
    """
    forecast_columns = ["series_key", "as_of_date", "model_name", "forecast_date", "point", *interval_columns(coverages)]
    status_columns = ["series_key", "as_of_date", "history_days", "model_name", "backtest_mae", "refused_reason"]
    days = pd.to_datetime(daily[date_column]).dt.normalize()
    before = daily.loc[days < pd.Timestamp(as_of), [series_column, value_column]].assign(_day=days)
    last_day = pd.Timestamp(as_of - timedelta(days=1))
    histories: list[tuple[str, pd.Series]] = []
    for key, group in before.groupby(series_column, sort=True):
        series = group.groupby("_day")[value_column].sum()
        series = series.reindex(pd.date_range(series.index.min(), last_day, freq="D"))
        histories.append((str(key), series))

    jobs = n_jobs if n_jobs is not None else (MAX_JOBS if len(histories) >= PARALLEL_MIN_SERIES else 1)
    jobs = max(1, min(jobs, MAX_JOBS))
    if jobs > 1:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=jobs)(
            delayed(forecast_daily_series)(s, horizon_days, coverages, min_history_days) for _, s in histories
        )
    else:
        results = [forecast_daily_series(s, horizon_days, coverages, min_history_days) for _, s in histories]

    metric_columns = [
        "series_key", "as_of_date", "model_name", "chosen", "folds", "points", "mae", "mape", "mase",
        *[f"coverage_{coverage_label(c)}" for c in coverages],
    ]  # fmt: skip
    forecasts, status, metric_rows = [], [], []
    for (key, _), result in zip(histories, results, strict=True):
        for name, m in result.backtest_metrics.items():
            if m is not None:
                metric_rows.append(
                    {**m, "series_key": key, "as_of_date": as_of, "model_name": name, "chosen": name == result.model_name}
                )
        status.append(
            {
                "series_key": key,
                "as_of_date": as_of,
                "history_days": result.history_days,
                "model_name": result.model_name,
                "backtest_mae": result.backtest_mae,
                "refused_reason": result.refused_reason,
            }
        )
        if result.frame is not None:
            forecasts.append(result.frame.assign(series_key=key, as_of_date=as_of, model_name=result.model_name))
    forecast_out = (
        pd.concat(forecasts, ignore_index=True)[forecast_columns] if forecasts else pd.DataFrame(columns=forecast_columns)
    )
    status_out = pd.DataFrame(status, columns=status_columns)
    if with_metrics:
        return forecast_out, status_out, pd.DataFrame(metric_rows, columns=metric_columns)
    return forecast_out, status_out


def forecast_declared(
    daily: pd.DataFrame, value_column: str, as_of: date, settings: ForecastSettings
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """`forecast_frame` with the declared settings (`forecast.yaml`: horizon, coverages, minimum
    history) on a long frame keyed by `series_key` and `usage_date`: forecasts, status and backtest
    metrics. The forecast assets and bench/forecast.py run the same call."""
    return forecast_frame(
        daily,
        series_column="series_key",
        date_column="usage_date",
        value_column=value_column,
        as_of=as_of,
        horizon_days=settings.horizon_days,
        coverages=settings.coverages,
        min_history_days=settings.min_history_days,
        with_metrics=True,
    )


def period_end_projection(
    actuals: pd.DataFrame,
    forecasts: pd.DataFrame,
    series_column: str,
    date_column: str,
    value_column: str,
    as_of: date,
    period: str = "month",
) -> dict[str, dict]:
    """Per forecast series: spend of the as-of month (or quarter) so far plus the forecast to its end.

    `actuals` is the long daily frame (values may be Decimal); only its days from the period's first
    day up to the day before `as_of` count. `forecasts` is `forecast_frame`'s output.
    Returns JSON-ready numbers rounded to cents: {series: {month | quarter, actual_to_date,
    forecast_rest_of_<period>, projected_total, forecast_reaches_<period>_end}}.
    """
    start, end = calendar_period(as_of, period)
    label = start.strftime("%Y-%m") if period == "month" else f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    days = pd.to_datetime(actuals[date_column]).dt.date
    in_period = actuals[(days >= start) & (days < as_of)]
    actual = {str(k): sum(v, start=0) for k, v in in_period.groupby(series_column)[value_column]}
    projection: dict[str, dict] = {}
    for key, group in forecasts.groupby("series_key", sort=True):
        rest = group[group["forecast_date"] < end]
        so_far = float(actual.get(str(key), 0))
        ahead = float(rest["point"].sum())
        projection[str(key)] = {
            period: label,
            "actual_to_date": round(so_far, 2),
            f"forecast_rest_of_{period}": round(ahead, 2),
            "projected_total": round(so_far + ahead, 2),
            f"forecast_reaches_{period}_end": bool(group["forecast_date"].max() >= end - timedelta(days=1)),
        }
    return projection
