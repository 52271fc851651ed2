"""Delivery checks: per export source, a warning when a delivery waits to be accepted (held back:
empty or much smaller than the one it would replace) or when a period is served from an incomplete
delivery (a file of it was quarantined). Neither blocks — the previous or partial data is still the
best there is — but both are said, in the UI and in the run summary."""

from collections.abc import Iterable

import dagster as dg
import duckdb

from atlas_pipeline.lib.ingest.landing import ensure_manifest
from atlas_pipeline.lib.ingest.sources import ExportSource, load_sources


def delivery_problems(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    """What a person should know about a source's deliveries, one line each (empty: nothing)."""
    ensure_manifest(con)
    held = con.execute(
        "select period, export_version, reason from landing.delivery_judgements "
        "where source = ? and verdict = 'held_back' and accepted_at is null "
        "and (period, export_version) not in (select period, export_version from landing.current_files where source = ?) "
        "order by period, judged_at",
        [source, source],
    ).fetchall()
    incomplete = con.execute(
        "select period, count(*) filter (where status = 'quarantined'), count(*) from landing.current_files "
        "where source = ? and not delivery_complete group by 1 order by 1",
        [source],
    ).fetchall()
    return [f"{period}@{version} held back: {reason}" for period, version, reason in held] + [
        f"{period} is incomplete: {bad} of {files} file(s) of its current delivery quarantined "
        f"(see quarantine/{source}/{period}/); re-delivering them makes it whole"
        for period, bad, files in incomplete
    ]


def build_delivery_check(source: ExportSource) -> dg.AssetChecksDefinition:
    """`deliveries_current` on `raw/<source>`: warns on held-back deliveries and incomplete periods."""

    @dg.asset_check(
        asset=dg.AssetKey(["raw", source.name]),
        name="deliveries_current",
        blocking=False,
        description=(
            "Warns when a delivery is held back (empty, or much smaller than the one it would replace: "
            "`atlas accept` makes it current) or when a period is served from a delivery that lost a file to "
            "quarantine."
        ),
        required_resource_keys={"warehouse"},
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        with context.resources.warehouse.connect() as con:
            problems = delivery_problems(con, source.name)
        return dg.AssetCheckResult(
            passed=not problems,
            severity=dg.AssetCheckSeverity.WARN,
            description="; ".join(problems) if problems else "every period is served from a complete, current delivery",
            metadata={"problems": dg.MetadataValue.json(problems)},
        )

    return _check


def build_delivery_checks(sources: Iterable[ExportSource]) -> list[dg.AssetChecksDefinition]:
    return [build_delivery_check(s) for s in sources]


@dg.definitions
def delivery_checks() -> dg.Definitions:
    return dg.Definitions(asset_checks=build_delivery_checks(load_sources()))
