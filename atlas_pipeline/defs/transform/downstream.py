"""After a billing or telemetry partition run, refresh what is built from whole history downstream of
it (GPU cost allocation, quality ledgers, views, the quality summary) — and nothing else."""

import dagster as dg

from atlas_pipeline.defs.transform.jobs import (
    REFRESH_SELECTION,
    after_success_sensor,
    billing_job,
    telemetry_job,
    warehouse_refresh_job,
)


def downstream_of(repository_def: dg.RepositoryDefinition | None, keys: set[dg.AssetKey]) -> list[dg.AssetKey] | None:
    """The unpartitioned warehouse assets downstream of `keys` (None: the whole refresh job, when the
    asset graph is not at hand)."""
    if repository_def is None:
        return None
    graph = repository_def.asset_graph
    selection = dg.AssetSelection.assets(*keys).downstream() & REFRESH_SELECTION
    return sorted(selection.resolve(graph), key=str)


@after_success_sensor(
    name="warehouse_after_partitions",
    monitored_jobs=[billing_job, telemetry_job],
    request_job=warehouse_refresh_job,
    description=(
        "After a successful billing_job or telemetry_job run, run warehouse_refresh_job for the unpartitioned "
        "assets downstream of what it built (GPU cost allocation, quality ledgers, views, data_quality_summary)."
    ),
)
def warehouse_after_partitions(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    run = context.dagster_run
    built = {
        record.asset_key
        for record in context.instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        if record.asset_key is not None
    }
    if not built:
        return dg.SkipReason(f"run {run.run_id} materialized nothing")
    selection = downstream_of(context.repository_def, built)
    if selection == []:
        return dg.SkipReason(f"nothing unpartitioned depends on what run {run.run_id} built")
    return dg.RunRequest(run_key=f"downstream-of-{run.run_id}", asset_selection=selection,
                         tags={"atlas/after_run": run.run_id})
