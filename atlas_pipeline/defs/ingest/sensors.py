"""Deliveries become runs of exactly their partitions.

One sensor per export source (`<source>_deliveries`, every 5 minutes once switched on) and two
schedules over every source of a kind (`billing_deliveries_daily` at 04:00 UTC, when billing
exports have landed overnight; `telemetry_deliveries_hourly`): each lists the stores, and when a
delivery appears that landing has not seen (a new billing period, a restated one, a new telemetry
day), adds its partition if it is new and requests a run of exactly those partitions: `billing_job`
for billing periods, `telemetry_job` for days, `warehouse_refresh_job` for an unpartitioned source
(the node inventory). After a partitioned run succeeds, `warehouse_after_partitions`
(defs/transform/downstream.py) refreshes what depends on it. Like every Atlas sensor and schedule
that starts runs on its own, they start STOPPED: switch them on in the UI (Automation)."""

import hashlib

import dagster as dg
import duckdb

from atlas_pipeline.defs.ingest.partitions import (
    BILLING_PERIODS,
    PARTITIONS_BY_PARTITIONING,
    TELEMETRY_DAYS,
    contiguous_ranges,
    range_tags,
)
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.defs.transform.jobs import billing_job, telemetry_job, warehouse_refresh_job
from atlas_pipeline.lib.ingest.sources import ExportSource, load_sources
from atlas_pipeline.lib.run.run_plan import source_deliveries

JOB_BY_PARTITIONS = {BILLING_PERIODS: billing_job, TELEMETRY_DAYS: telemetry_job, None: warehouse_refresh_job}


def partition_run_requests(
    instance: dg.DagsterInstance, partitions_def: dg.DynamicPartitionsDefinition, keys: list[str], run_key: str,
    tags: dict[str, str], pending_new: list[str] = (),
) -> list[dg.RunRequest]:
    """One run per contiguous range of `keys` in the partitions' order (`pending_new`: keys being
    added in the same tick, appended after the existing ones, sorted), each run key
    `<first>..<last>:<hash of run_key>` (run_key names the deliveries: one run per delivery, ever)."""
    ordered = [*instance.get_dynamic_partitions(partitions_def.name), *sorted(pending_new)]
    job = JOB_BY_PARTITIONS[partitions_def.name]
    digest = hashlib.sha256(run_key.encode()).hexdigest()[:16]  # the deliveries, short
    return [
        dg.RunRequest(job_name=job.name, run_key=f"{first}..{last}:{digest}", tags={**tags, **range_tags(first, last)})
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
                    found = source_deliveries(con, source, context.instance)
            else:
                with duckdb.connect() as con:  # nothing landed yet: every delivery is new
                    found = source_deliveries(con, source, context.instance)
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
            digest = hashlib.sha256(run_key.encode()).hexdigest()[:16]
            return dg.SensorResult(run_requests=[dg.RunRequest(job_name=job.name, run_key=digest, tags=tags)])
        existing = set(context.instance.get_dynamic_partitions(partitions_def.name))
        new = sorted(set(found.periods) - existing)
        return dg.SensorResult(
            run_requests=partition_run_requests(context.instance, partitions_def, found.periods, run_key, tags, new),
            dynamic_partitions_requests=[partitions_def.build_add_request(new)] if new else [],
        )

    return _sensor




def _pending(
    warehouse: Warehouse, sources: list[ExportSource], instance: dg.DagsterInstance | None = None
) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """period -> its new deliveries ('source:period@version'), and the sources' problems, over `sources`."""
    found_by_period: dict[str, list[str]] = {}
    problems: list[str] = []
    if warehouse.paths().warehouse.exists():
        with warehouse.connect(read_only=True) as con:
            found = [source_deliveries(con, s, instance) for s in sources]
    else:
        with duckdb.connect() as con:
            found = [source_deliveries(con, s, instance) for s in sources]
    for item in found:
        if item.problem:
            problems.append(item.problem)
        for delivery in item.deliveries:
            found_by_period.setdefault(delivery.split("@", 1)[0], []).append(f"{item.source.name}:{delivery}")
    return found_by_period, problems, [s.name for s in sources]


def build_deliveries_schedule(partitioning: str, name: str, cron: str, description: str) -> dg.ScheduleDefinition:
    """A schedule over every source of one partitioning: runs of exactly the partitions with a new
    delivery from any of them (new partitions are added first: a run can only target an existing one)."""
    partitions_def = PARTITIONS_BY_PARTITIONING[partitioning]
    job = JOB_BY_PARTITIONS[partitions_def.name]

    @dg.schedule(name=name, job=job, cron_schedule=cron, execution_timezone="UTC",
                 default_status=dg.DefaultScheduleStatus.STOPPED, description=description)
    def _schedule(context: dg.ScheduleEvaluationContext, warehouse: Warehouse):
        sources = [s for s in load_sources() if s.partitioning == partitioning]
        try:
            by_period, problems, _ = _pending(warehouse, sources, context.instance)
        except duckdb.IOException as exc:
            return dg.SkipReason(f"warehouse busy: {str(exc).splitlines()[0]}")
        for problem in problems:
            context.log.warning(problem)
        if not by_period:
            return dg.SkipReason(f"no new {partitions_def.name.replace('_', ' ')} delivered")
        new = sorted(set(by_period) - set(context.instance.get_dynamic_partitions(partitions_def.name)))
        if new:
            context.instance.add_dynamic_partitions(partitions_def.name, new)
        run_key = ";".join(d for period in sorted(by_period) for d in by_period[period])
        return partition_run_requests(context.instance, partitions_def, sorted(by_period), run_key,
                                      {"atlas/periods": ",".join(sorted(by_period))})

    return _schedule


billing_deliveries_daily = build_deliveries_schedule(
    "billing_period", "billing_deliveries_daily", "0 4 * * *",
    "Daily 04:00 UTC: a billing_job run of every billing period with a delivery not yet landed, from any billing source.",
)
telemetry_deliveries_hourly = build_deliveries_schedule(
    "day", "telemetry_deliveries_hourly", "15 * * * *",
    "Hourly: a telemetry_job run of every UTC day with telemetry or accounting files not yet landed.",
)


@dg.definitions
def delivery_sensors() -> dg.Definitions:
    return dg.Definitions(
        sensors=[build_delivery_sensor(s) for s in load_sources()],
        schedules=[billing_deliveries_daily, telemetry_deliveries_hourly],
    )
