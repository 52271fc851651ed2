"""The partitions of landed data: billing periods and telemetry days, as Dagster dynamic partitions.

A partition exists once a source has delivered that period: the delivery sensors, the daily
refresh schedule and `atlas run` add it when they see the delivery (periods appear as they are
delivered, from any year: there is no start date to fall outside of, and the UI shows no months
that nothing ever delivered as "missing").

One definition per kind of period (a source's `partitioning` in `sources/<name>.yaml`), not per
source: every billing source names the same calendar month the same way once landed (`2023-09`
whether AWS wrote `BILLING_PERIOD=2023-09` or Azure `20230901-20230930`), and the billing dbt
models union every source per month, so one key space lets ingest and dbt assets share each
partition one to one. A source that delivered nothing for a month materializes that month empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import dagster as dg

BILLING_PERIODS = "billing_periods"  # 'YYYY-MM'
TELEMETRY_DAYS = "telemetry_days"  # 'YYYY-MM-DD' (UTC)

billing_periods = dg.DynamicPartitionsDefinition(name=BILLING_PERIODS)
telemetry_days = dg.DynamicPartitionsDefinition(name=TELEMETRY_DAYS)

# A source's `partitioning` -> its assets' partitions (`none`: unpartitioned, e.g. the node inventory).
PARTITIONS_BY_PARTITIONING: dict[str, dg.DynamicPartitionsDefinition | None] = {
    "billing_period": billing_periods,
    "day": telemetry_days,
    "none": None,
}

# A backfill of many periods runs once, with every period in one dbt invocation (dbt's start-up and
# the delete+insert of each incremental model are paid once, not per month).
SINGLE_RUN = dg.BackfillPolicy.single_run()


def add_partitions(instance: dg.DagsterInstance, partitions_def: dg.DynamicPartitionsDefinition,
                   keys: Iterable[str]) -> list[str]:
    """Add the keys that are not partitions yet, in sorted order (so a full history added at once
    is one contiguous range); returns those added."""
    existing = set(instance.get_dynamic_partitions(partitions_def.name))
    missing = sorted(set(keys) - existing)
    if missing:
        instance.add_dynamic_partitions(partitions_def.name, missing)
    return missing


def contiguous_ranges(ordered_keys: Sequence[str], wanted: Iterable[str]) -> list[tuple[str, str]]:
    """The wanted keys as (first, last) runs of neighbours in the partitions' own order: a run
    covers a range, so two restated months far apart become two runs, not one over everything
    between them. Keys that are not partitions are ignored."""
    wanted = set(wanted)
    ranges: list[tuple[str, str]] = []
    start = previous = None
    for key in ordered_keys:
        if key in wanted:
            start = start or key
            previous = key
        elif start is not None:
            ranges.append((start, previous))
            start = None
    if start is not None:
        ranges.append((start, previous))
    return ranges


def range_tags(first: str, last: str) -> dict[str, str]:
    """Run tags targeting the partitions first..last (what a single-run backfill sets)."""
    if first == last:
        return {"dagster/partition": first}
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
