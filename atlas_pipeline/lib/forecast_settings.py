"""Forecast settings declared in `assets/forecast.yaml`, parsed once into a typed object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from atlas_pipeline.lib.forecasting import SMALLEST_MIN_HISTORY_DAYS
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.sources import DeclarationError, read_declaration

FORECAST_DECLARATION = DECLARATIONS_DIR / "forecast.yaml"

# The series a forecast may be declared over -> the `main.fct_cost_daily` column that keys it.
SERIES_COLUMNS: dict[str, str] = {
    "provider": "provider_name",
    "billing_account": "billing_account_id",
    "sub_account": "sub_account_id",
    "service": "service_name",
    "service_category": "service_category",
    "region": "region_id",
    "team": "team",
}

_FIELDS = ("horizon_days", "coverages", "min_history_days", "partitions_start", "series")


@dataclass(frozen=True)
class ForecastSettings:
    """What the daily spend forecast produces (see the comments in `assets/forecast.yaml`)."""

    horizon_days: int
    coverages: tuple[float, ...]
    min_history_days: int
    partitions_start: date
    series: tuple[str, ...]
    declared_in: str = str(FORECAST_DECLARATION)

    def series_column(self, dimension: str) -> str:
        """The `fct_cost_daily` column that keys a declared series dimension."""
        return SERIES_COLUMNS[dimension]


def load_forecast_settings(path: Path = FORECAST_DECLARATION) -> ForecastSettings:
    """Parse the forecast declaration; every error names the file and the field."""
    data = read_declaration(path)
    if not isinstance(data, dict):
        raise DeclarationError(f"{path}: expected a mapping of fields")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise DeclarationError(f"{path}: unknown field {unknown[0]!r} (expected one of {', '.join(_FIELDS)})")
    for name in _FIELDS:
        if data.get(name) is None:
            raise DeclarationError(f"{path}: field {name!r} is required")

    horizon = _integer(path, "horizon_days", data["horizon_days"], smallest=1)
    min_history = _integer(path, "min_history_days", data["min_history_days"], smallest=SMALLEST_MIN_HISTORY_DAYS)
    coverages = _list(path, "coverages", data["coverages"])
    for value in coverages:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise DeclarationError(f"{path}: field 'coverages' must hold fractions between 0 and 1, got {value!r}")
    if len(set(coverages)) != len(coverages):
        raise DeclarationError(f"{path}: field 'coverages' lists a coverage twice")
    start = data["partitions_start"]
    if not isinstance(start, date):
        try:
            start = date.fromisoformat(str(start))
        except ValueError as exc:
            raise DeclarationError(f"{path}: field 'partitions_start' must be a date (YYYY-MM-DD), got {start!r}") from exc
    series = _list(path, "series", data["series"])
    for value in series:
        if value not in SERIES_COLUMNS:
            raise DeclarationError(
                f"{path}: field 'series' has unknown series {value!r} (expected one of {', '.join(SERIES_COLUMNS)})"
            )
    if len(set(series)) != len(series):
        raise DeclarationError(f"{path}: field 'series' lists a series twice")
    return ForecastSettings(
        horizon_days=horizon,
        coverages=tuple(float(c) for c in coverages),
        min_history_days=min_history,
        partitions_start=start,
        series=tuple(series),
        declared_in=str(path),
    )


def _integer(path: Path, name: str, value: Any, smallest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DeclarationError(f"{path}: field {name!r} must be a whole number, got {value!r}")
    if value < smallest:
        raise DeclarationError(f"{path}: field {name!r} must be at least {smallest}, got {value}")
    return value


def _list(path: Path, name: str, value: Any) -> list:
    if not isinstance(value, list) or not value:
        raise DeclarationError(f"{path}: field {name!r} must be a non-empty list")
    return value
