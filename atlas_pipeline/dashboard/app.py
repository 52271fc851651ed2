"""The Streamlit entry point (`streamlit run`, started by `atlas dashboard`): one page per view,
navigation in the sidebar."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from atlas_pipeline.dashboard import commitments, data, entities, forecasts, gpu, gpu_insight, quality, spend

# No page_icon: a Material icon as favicon is fetched from a font CDN (the browser test checks offline).
st.set_page_config(page_title="Atlas", layout="wide")

stamp = data.snapshot_stamp()
if stamp is None:
    st.error(f"No published snapshot at {data.snapshot_path()}: run `atlas run` (or `make run`) first.")
    st.stop()
published = datetime.fromtimestamp(stamp[2] / 1e9, tz=UTC)
st.sidebar.caption(f"Snapshot published {published:%Y-%m-%d %H:%M} UTC · read-only · every figure is SQL on the "
                   "rpt_* report models")

navigation = st.navigation(
    {
        "Cloud spend": [
            st.Page(spend.render, title="Spend", url_path="spend", default=True),
            st.Page(entities.team_page, title="Team", url_path="team"),
            st.Page(entities.provider_page, title="Provider", url_path="provider"),
            st.Page(commitments.render, title="Commitments", url_path="commitments"),
        ],
        "GPU fleet": [
            st.Page(gpu.render, title="GPU fleet", url_path="gpu"),
            st.Page(gpu_insight.render, title="Placement and idle", url_path="gpu-insight"),
            st.Page(entities.cluster_page, title="Cluster", url_path="cluster"),
        ],
        "Outlook and health": [
            st.Page(forecasts.render, title="Forecasts & budgets", url_path="forecasts"),
            st.Page(quality.render, title="Data quality", url_path="quality"),
        ],
    }
)
navigation.run()
