"""Benchmark: daily forecasts with the full backtest for many series, in parallel on two cores.

    .venv/bin/python bench/forecast.py                 # 1000 series × 2 years (730 days)
    .venv/bin/python bench/forecast.py --series 50     # a quick run

Each series is generated (level, trend, weekly pattern, noise; seeded) and forecast as of the day
after its history with the settings of assets/forecast.yaml (horizon, coverages, minimum history):
three candidates backtested by sktime `evaluate` over an expanding window, the best refitted, 80 %
/ 95 % intervals. Reports wall time, series per second, and peak memory: this process's high-water
mark plus each worker process's (VmHWM from /proc; joblib's workers are this process's children),
which bounds the peak of the whole run from above. JSON goes to $ATLAS_HOME/bench/forecast.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from atlas_pipeline.lib.forecast.forecast_settings import load_forecast_settings  # noqa: E402
from atlas_pipeline.lib.forecast.forecasting import MAX_JOBS, forecast_declared  # noqa: E402
from atlas_pipeline.lib.settings import AtlasPaths  # noqa: E402

DAYS = 730
AS_OF = date(2026, 11, 1)
WEEKLY = np.array([1.0, 1.05, 1.08, 1.06, 1.0, 0.7, 0.65])


def generate(series: int, days: int, seed: int = 7) -> pd.DataFrame:
    """A long frame (series_key, usage_date, cost) of `series` daily series ending the day before AS_OF."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(end=AS_OF - timedelta(days=1), periods=days, freq="D")
    t = np.arange(days)
    level = rng.uniform(50, 5000, (series, 1))
    slope = rng.uniform(-0.0005, 0.002, (series, 1)) * level
    pattern = WEEKLY[index.dayofweek][None, :] ** rng.uniform(0.5, 1.5, (series, 1))
    values = (level + slope * t) * pattern * (1 + rng.normal(0, 0.05, (series, days)))
    return pd.DataFrame(
        {
            "series_key": np.repeat([f"s{i:05d}" for i in range(series)], days),
            "usage_date": np.tile(index, series),
            "cost": np.clip(values, 0, None).ravel(),
        }
    )


def _children_peak_kib() -> int:
    """Σ VmHWM of this process's live child processes (the joblib workers)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(os.getpid()) and "VmHWM" in fields:
            total += int(fields["VmHWM"].split()[0])
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000, help="number of daily series (default 1000)")
    parser.add_argument("--days", type=int, default=DAYS, help="days of history per series (default 730)")
    args = parser.parse_args(argv)
    settings = load_forecast_settings()
    frame = generate(args.series, args.days)
    started = time.perf_counter()
    forecasts, status, metrics = forecast_declared(frame, "cost", AS_OF, settings)
    wall = time.perf_counter() - started
    own_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers_kib = _children_peak_kib()
    chosen = metrics[metrics["chosen"]]
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "series": args.series,
        "days_of_history": args.days,
        "horizon_days": settings.horizon_days,
        "workers": MAX_JOBS,
        "wall_seconds": round(wall, 1),
        "series_per_second": round(args.series / wall, 2),
        "peak_memory_mib_main": round(own_kib / 1024, 1),
        "peak_memory_mib_workers_sum": round(workers_kib / 1024, 1),
        "forecast_rows": len(forecasts),
        "refused": int(status["model_name"].isna().sum()),
        "models_chosen": {str(k): int(v) for k, v in chosen["model_name"].value_counts().items()},
        "mean_mase_chosen": round(float(chosen["mase"].mean()), 3),
        "mean_coverage_80_chosen": round(float(chosen["coverage_80"].mean()), 3),
        "mean_coverage_95_chosen": round(float(chosen["coverage_95"].mean()), 3),
    }
    for key, value in result.items():
        print(f"{key:>30}: {value}")
    out = AtlasPaths.from_env().home / "bench" / "forecast.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
