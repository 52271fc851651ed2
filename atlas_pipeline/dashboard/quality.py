"""Data quality per stage and freshness per source."""

from __future__ import annotations

import streamlit as st

from atlas_pipeline.dashboard import data
from atlas_pipeline.dashboard.widgets import table
from atlas_pipeline.lib.report import report_queries as q


def render() -> None:
    st.title("Data quality and freshness")
    freshness = data.frame(q.source_freshness())
    if not freshness.empty:
        counts = freshness["status"].value_counts().to_dict()
        columns = st.columns(max(1, len(counts)))
        for (status, count), slot in zip(sorted(counts.items()), columns, strict=False):
            slot.metric(f"Sources {status}", int(count))
    table(freshness, "source_freshness",
          "Per export source: newest delivery, landing, quarantine, checks and the freshness check "
          "(max_lateness_hours in assets/sources/<name>.yaml)")
    table(data.frame(q.delivery_status()), "delivery_status",
          "Periods served from an incomplete delivery (a file quarantined), or with a delivery held back "
          "(empty or much smaller than the one served: `atlas accept <source> <period>` makes it current)")
    table(data.frame(q.quality_by_stage()), "quality_by_stage", "Checks per pipeline stage (latest outcome each)")
