"""The small estate the end-to-end tests materialize once per session (tests/e2e/conftest.py)."""

from atlas_pipeline.sample_estate import EstateSpec

SPEC = EstateSpec(seed=7, months=2, line_items_per_month=1500, telemetry_interval_seconds=3600)
