"""Forecast settings declared in `assets/forecast.yaml`, parsed once into a typed object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.sources import DeclarationError


@dataclass(frozen=True)
class ForecastSettings:
    horizon_days: int
    coverages: tuple[float, ...]
    min_history_days: int
    partitions_start: date


def load_forecast_settings(path: Path = DECLARATIONS_DIR / "forecast.yaml") -> ForecastSettings:
    """Parse the forecast declaration; errors name the file and the field."""
    data = yaml.safe_load(path.read_text()) or {}
    try:
        settings = ForecastSettings(
            horizon_days=int(data["horizon_days"]),
            coverages=tuple(float(c) for c in data["coverages"]),
            min_history_days=int(data["min_history_days"]),
            partitions_start=date.fromisoformat(str(data["partitions_start"])),
        )
    except KeyError as exc:
        raise DeclarationError(f"{path}: field {exc.args[0]!r} is required") from exc
    except (TypeError, ValueError) as exc:
        raise DeclarationError(f"{path}: {exc}") from exc
    if settings.horizon_days < 1:
        raise DeclarationError(f"{path}: field 'horizon_days' must be at least 1")
    if not all(0 < c < 1 for c in settings.coverages):
        raise DeclarationError(f"{path}: field 'coverages' must be fractions between 0 and 1")
    return settings
