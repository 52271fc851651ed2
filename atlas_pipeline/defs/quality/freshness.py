"""Freshness: each export source declares how late its newest delivery may be
(`max_lateness_hours` in its `sources/<name>.yaml`); a Dagster freshness check on `raw/<name>`
warns when the newest landed file is older than that (the ingest asset records the delivery time
as `dagster/last_updated_timestamp`, so a refresh run with nothing new does not look fresh)."""

from collections.abc import Iterable

import dagster as dg

from atlas_pipeline.lib.ingest.sources import ExportSource, load_sources


def build_source_freshness_checks(sources: Iterable[ExportSource]) -> list[dg.AssetChecksDefinition]:
    """One last-update freshness check per source, with that source's declared lateness."""
    checks: list[dg.AssetChecksDefinition] = []
    for source in sources:
        checks += dg.build_last_update_freshness_checks(
            assets=[dg.AssetKey(["raw", source.name])],
            lower_bound_delta=source.max_lateness,
            severity=dg.AssetCheckSeverity.WARN,
        )
    return checks


@dg.definitions
def freshness() -> dg.Definitions:
    checks = build_source_freshness_checks(load_sources())
    return dg.Definitions(
        asset_checks=checks,
        # Re-evaluates the checks between runs, so a source that stops delivering turns stale in the UI.
        sensors=[dg.build_sensor_for_freshness_checks(freshness_checks=checks, name="source_freshness_sensor")],
    )
