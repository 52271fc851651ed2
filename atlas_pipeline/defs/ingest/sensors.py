"""One sensor per export source: list the store, and when a delivery appears that landing has not seen
(a new billing period, a restated one, a new telemetry day), add its partition if it is new and
request a run of exactly those partitions: `billing_job` for billing periods, `telemetry_job` for
days, `warehouse_refresh_job` for an unpartitioned source (the node inventory). After a
partitioned run succeeds, `warehouse_after_partitions` refreshes what depends on it."""

import dagster as dg
import duckdb

from atlas_pipeline.defs.automation.jobs import billing_job, telemetry_job, warehouse_refresh_job
from atlas_pipeline.defs.ingest.partitions import (
    BILLING_PERIODS,
    PARTITIONS_BY_PARTITIONING,
    TELEMETRY_DAYS,
    contiguous_ranges,
    range_tags,
)
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.run_plan import source_deliveries
from atlas_pipeline.lib.sources import ExportSource, load_sources

JOB_BY_PARTITIONS = {BILLING_PERIODS: billing_job, TELEMETRY_DAYS: telemetry_job, None: warehouse_refresh_job}


def partition_run_requests(
    instance: dg.DagsterInstance, partitions_def: dg.DynamicPartitionsDefinition, keys: list[str], run_key: str,
    tags: dict[str, str], pending_new: list[str] = (),
) -> list[dg.RunRequest]:
    """One run per contiguous range of `keys` in the partitions' order (`pending_new`: keys being
    added in the same tick, appended after the existing ones, sorted), each run key
    `<run_key>:<first>..<last>`."""
    ordered = [*instance.get_dynamic_partitions(partitions_def.name), *sorted(pending_new)]
    job = JOB_BY_PARTITIONS[partitions_def.name]
    return [
        dg.RunRequest(job_name=job.name, run_key=f"{run_key}:{first}..{last}", tags={**tags, **range_tags(first, last)})
        for first, last in contiguous_ranges(ordered, keys)
    ]


def build_delivery_sensor(source: ExportSource) -> dg.SensorDefinition:
    """`<source>_deliveries`: runs of exactly the partitions with a new delivery (run key = the
    deliveries, so the same delivery never triggers twice)."""
    partitions_def = PARTITIONS_BY_PARTITIONING[source.partitioning]
    job = JOB_BY_PARTITIONS[partitions_def.name if partitions_def else None]

    @dg.sensor(
        name=f"{source.name}_deliveries",
        jobs=[job],
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            f"Requests a `{job.name}` run of the {'partitions' if partitions_def else 'asset'} of `{source.name}` "
            f"with a delivery not yet landed from `{source.location}`."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> dg.SensorResult | dg.SkipReason:
        try:
            if warehouse.paths().warehouse.exists():
                with warehouse.connect(read_only=True) as con:
                    found = source_deliveries(con, source)
            else:
                with duckdb.connect() as con:  # nothing landed yet: every delivery is new
                    found = source_deliveries(con, source)
        except duckdb.IOException as exc:  # a run holds the warehouse: look again next tick
            return dg.SkipReason(f"warehouse busy: {str(exc).splitlines()[0]}")
        if found.problem:
            return dg.SkipReason(found.problem)
        if not found.periods:
            return dg.SkipReason(f"{source.name}: no new deliveries")
        tags = {"atlas/source": source.name, "atlas/periods": ",".join(found.periods)}
        context.log.info(f"{source.name}: new deliveries for {', '.join(found.periods)}")
        # The run key names the deliveries (period@export version): the same delivery never runs twice.
        run_key = f"{source.name}:{','.join(found.deliveries)}"
        if partitions_def is None:
            return dg.SensorResult(run_requests=[dg.RunRequest(job_name=job.name, run_key=run_key, tags=tags)])
        existing = set(context.instance.get_dynamic_partitions(partitions_def.name))
        new = sorted(set(found.periods) - existing)
        return dg.SensorResult(
            run_requests=partition_run_requests(context.instance, partitions_def, found.periods, run_key, tags, new),
            dynamic_partitions_requests=[partitions_def.build_add_request(new)] if new else [],
        )

    return _sensor


@dg.definitions
def delivery_sensors() -> dg.Definitions:
    return dg.Definitions(sensors=[build_delivery_sensor(s) for s in load_sources()])
