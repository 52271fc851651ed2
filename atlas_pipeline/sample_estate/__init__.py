"""Deterministic sample estate: billing exports and GPU telemetry for a multi-cloud organisation.

`generate_estate(out_dir, EstateSpec(...))` writes files laid out as the providers lay out their
buckets (see `layout.py`); the same generator feeds tests (small) and benchmarks (large).
"""

from atlas_pipeline.sample_estate.spec import EstateSpec, GpuHost, default_fleet

__all__ = ["EstateSpec", "GpuHost", "default_fleet"]
