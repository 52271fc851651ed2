"""Forecast settings declared in `forecast.yaml` of the declarations folder (`$ATLAS_ASSETS`, else
the repository's `assets/`), parsed into a typed object when a forecast runs, never at import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_pipeline.lib.forecast.forecasting import SMALLEST_MIN_HISTORY_DAYS
from atlas_pipeline.lib.ingest.sources import DeclarationError, read_declaration
from atlas_pipeline.lib.settings import DECLARATIONS_DIR, declaration_file

FORECAST_FILE_NAME = "forecast.yaml"
# The repository's settings: what a declarations folder without its own forecast.yaml gets.
DEFAULT_FORECAST_DECLARATION = DECLARATIONS_DIR / FORECAST_FILE_NAME

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

_FIELDS = ("horizon_days", "coverages", "min_history_days", "series")
# Accepted so older files load, and ignored: the forecast's as-of dates come from the data.
DEPRECATED_FIELDS = ("partitions_start",)


@dataclass(frozen=True)
class ForecastSettings:
    """What the daily spend forecast produces (see the comments in `assets/forecast.yaml`)."""

    horizon_days: int
    coverages: tuple[float, ...]
    min_history_days: int
    series: tuple[str, ...]
    declared_in: str = str(DEFAULT_FORECAST_DECLARATION)

    def series_column(self, dimension: str) -> str:
        """The `fct_cost_daily` column that keys a declared series dimension."""
        return SERIES_COLUMNS[dimension]


def forecast_file() -> Path:
    """`forecast.yaml` of the declarations folder (resolved now), else the repository's defaults."""
    return declaration_file(FORECAST_FILE_NAME) or DEFAULT_FORECAST_DECLARATION


def load_forecast_settings(path: Path | None = None) -> ForecastSettings:
    """Parse the forecast declaration (default: `forecast_file()`). A DeclarationError lists every
    problem, naming the file and the field."""
    path = path or forecast_file()
    data = read_declaration(path)
    if not isinstance(data, dict):
        raise DeclarationError(f"{path}: expected a mapping of fields")
    problems: list[str] = []
    unknown = sorted(set(data) - set(_FIELDS) - set(DEPRECATED_FIELDS))
    problems += [f"{path}: unknown field {name!r} (expected one of {', '.join(_FIELDS)})" for name in unknown]
    problems += [f"{path}: field {name!r} is required" for name in _FIELDS if data.get(name) is None]

    horizon = _integer(path, "horizon_days", data.get("horizon_days"), 1, problems)
    min_history = _integer(path, "min_history_days", data.get("min_history_days"), SMALLEST_MIN_HISTORY_DAYS, problems)
    coverages = _list(path, "coverages", data.get("coverages"), problems)
    for value in coverages:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            problems.append(f"{path}: field 'coverages' must hold fractions between 0 and 1, got {value!r}")
    if len(set(map(repr, coverages))) != len(coverages):
        problems.append(f"{path}: field 'coverages' lists a coverage twice")
    series = _list(path, "series", data.get("series"), problems)
    for value in series:
        if not isinstance(value, str) or value not in SERIES_COLUMNS:
            problems.append(
                f"{path}: field 'series' has unknown series {value!r} (expected one of {', '.join(SERIES_COLUMNS)})"
            )
    if len(set(map(repr, series))) != len(series):
        problems.append(f"{path}: field 'series' lists a series twice")
    if problems:
        raise DeclarationError(*problems)
    assert horizon is not None and min_history is not None
    return ForecastSettings(
        horizon_days=horizon,
        coverages=tuple(float(c) for c in coverages),
        min_history_days=min_history,
        series=tuple(series),
        declared_in=str(path),
    )


def _integer(path: Path, name: str, value: Any, smallest: int, problems: list[str]) -> int | None:
    if value is None:
        return None  # reported as required
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{path}: field {name!r} must be a whole number, got {value!r}")
        return None
    if value < smallest:
        problems.append(f"{path}: field {name!r} must be at least {smallest}, got {value}")
        return None
    return value


def _list(path: Path, name: str, value: Any, problems: list[str]) -> list:
    if value is None:
        return []  # reported as required
    if not isinstance(value, list) or not value:
        problems.append(f"{path}: field {name!r} must be a non-empty list")
        return []
    return value
