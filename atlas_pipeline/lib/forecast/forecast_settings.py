"""Forecast settings declared in `forecast.yaml` of the declarations folder (`$ATLAS_ASSETS`, else
the repository's `assets/`), parsed into a typed object when a forecast runs, never at import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from atlas_pipeline.lib.declarations import Declaration, read_declaration, validate_declaration
from atlas_pipeline.lib.forecast.forecasting import SMALLEST_MIN_HISTORY_DAYS
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


class ForecastDeclaration(Declaration):
    """The shape of `forecast.yaml`."""

    horizon_days: int
    coverages: list[float] = Field(min_length=1)
    min_history_days: int
    series: list[str] = Field(min_length=1)
    partitions_start: Any = None  # deprecated: accepted so older files load, and ignored

    @field_validator("horizon_days", "min_history_days")
    @classmethod
    def _at_least(cls, value: int, info: ValidationInfo) -> int:
        smallest = 1 if info.field_name == "horizon_days" else SMALLEST_MIN_HISTORY_DAYS
        if value < smallest:
            raise ValueError(f"must be at least {smallest}, got {value}")
        return value

    @field_validator("coverages")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        for coverage in value:
            if not 0 < coverage < 1:
                raise ValueError(f"must hold fractions between 0 and 1, got {coverage!r}")
        if len(set(value)) != len(value):
            raise ValueError("lists a coverage twice")
        return value

    @field_validator("series")
    @classmethod
    def _known_series(cls, value: list[str]) -> list[str]:
        for dimension in value:
            if dimension not in SERIES_COLUMNS:
                raise ValueError(f"has unknown series {dimension!r} (expected one of {', '.join(SERIES_COLUMNS)})")
        if len(set(value)) != len(value):
            raise ValueError("lists a series twice")
        return value

    def settings(self, path: Path | str) -> ForecastSettings:
        """The typed settings this declaration describes."""
        return ForecastSettings(
            horizon_days=self.horizon_days,
            coverages=tuple(float(c) for c in self.coverages),
            min_history_days=self.min_history_days,
            series=tuple(self.series),
            declared_in=str(path),
        )


def load_forecast_settings(path: Path | None = None) -> ForecastSettings:
    """Parse the forecast declaration (default: `forecast_file()`). A DeclarationError lists every
    problem, naming the file and the field."""
    path = path or forecast_file()
    return validate_declaration(ForecastDeclaration, read_declaration(path), path).settings(path)
