"""The GPU node inventory export: which hostname is which cloud instance, in which cluster."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from atlas_pipeline.sample_estate.spec import GpuHost

INVENTORY_FIELDS = (
    "hostname",
    "cluster",
    "provider",
    "instance_type",
    "resource_id",
    "region",
    "gpu_model",
    "gpu_count",
)


def render_inventory(fleet: Iterable[GpuHost]) -> str:
    """`nodes.csv`: a header and one row per GPU host, in fleet order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(INVENTORY_FIELDS)
    for host in fleet:
        writer.writerow([getattr(host, field) for field in INVENTORY_FIELDS])
    return buffer.getvalue()
