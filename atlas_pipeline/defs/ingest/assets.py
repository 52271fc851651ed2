"""Ingest assets: discover an export source's files, land new deliveries immutably, and point the
source's `raw.<name>` view at the current delivery of every period.

A source partitioned by billing period or by day is a partitioned asset (defs/ingest/partitions.py):
materializing a partition lands that period's deliveries only; `raw.<name>` always serves every
period's current delivery."""


import dagster as dg

from atlas_pipeline.defs.catalog import BILLING, GPU_FLEET, source_domain
from atlas_pipeline.defs.ingest.landing_checks import integrity_check, landing_check_specs, store_check
from atlas_pipeline.defs.ingest.partitions import PARTITIONS_BY_PARTITIONING, SINGLE_RUN
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.ingest.contracts import contract_for, input_names
from atlas_pipeline.lib.ingest.landing import (
    LandingReport,
    SourceLocationError,
    ensure_manifest,
    land_source,
    refresh_raw_view,
)
from atlas_pipeline.lib.ingest.object_store import StoreUnavailable, open_store
from atlas_pipeline.lib.ingest.raw_relations import empty_view_sql
from atlas_pipeline.lib.ingest.sources import ExportSource, load_sources
from atlas_pipeline.lib.warehouse.dbt_project import billing_raw_sources


def build_ingest_asset(source: ExportSource) -> dg.AssetsDefinition:
    """The `raw/<source>` asset for one declared export source."""
    partitions_def = PARTITIONS_BY_PARTITIONING[source.partitioning]
    domain = source_domain(source.partitioning)
    scope = {
        "billing_period": "Partitioned by billing period: a partition lands that month's deliveries.",
        "day": "Partitioned by UTC day: a partition lands that day's deliveries.",
        "none": "Unpartitioned: one current delivery.",
    }[source.partitioning]

    @dg.asset(
        key=dg.AssetKey(["raw", source.name]),
        group_name="ingest",
        partitions_def=partitions_def,
        backfill_policy=SINGLE_RUN if partitions_def else None,
        kinds={"duckdb", source.provider} if source.provider != "telemetry" else {"duckdb"},
        owners=list(domain.owners),
        tags={**domain.tags, **({"partitioned_by": partitions_def.name} if partitions_def else {})},
        description=(
            f"{source.description}\n\nLands new or changed files from `{source.location}` "
            f"(`{source.include}`) into immutable landing, then serves the current delivery of every "
            f"period as the view `raw.{source.name}`. {scope} Declared in `{source.declared_in}`."
        ),
        metadata={"format": source.format, "partitioning": source.partitioning, "declared_in": source.declared_in},
        check_specs=landing_check_specs(dg.AssetKey(["raw", source.name])),
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        paths = warehouse.paths()
        unreachable = None
        periods = list(context.partition_keys) if partitions_def else None
        with warehouse.connect() as con:
            try:
                store = open_store(source.resolved_location())
                report = land_source(con, source, store, paths.landing, paths.quarantine, periods=periods)
            except SourceLocationError as exc:
                raise dg.Failure(description=str(exc)) from exc
            except StoreUnavailable as exc:  # down, refusing our credentials, or changing under us: skip, warn
                unreachable, report = str(exc), LandingReport(source=source.name)
                context.log.warning(f"{source.name}: skipped this run: {exc}")
            context.log.info(report.summary())
            for item in report.quarantined:
                context.log.warning(f"quarantined {item['file']}: {item['problem']}")
            for refused in report.refused:
                context.log.warning(refused)
            for held in report.held_back:
                context.log.warning(f"held back {source.name} {held}")
            for stale in report.stale:
                context.log.warning(f"ignored {stale}")
            view = refresh_raw_view(con, source)
            if not view["files"]:
                context.log.info(f"{source.name}: absent from this estate (nothing delivered); raw.{source.name} is empty")
            where = ""
            if periods is not None:
                where = " where x_period in (" + ", ".join(f"'{p}'" for p in periods) + ")"
            rows = con.execute(f"select count(*) from raw.{source.name}{where}").fetchone()[0] if view["files"] else 0
            # When the newest current file was delivered: freshness checks measure the data's age, not the run's.
            [(delivered_at,)] = con.execute(
                "select max(last_modified) from landing.current_files where source = ? and status = 'landed'", [source.name]
            ).fetchall()
            checks = [store_check(source, unreachable), integrity_check(con, source)]
        return dg.MaterializeResult(
            check_results=checks,
            metadata={
                # A partition's own rows (every period's when unpartitioned).
                "rows": dg.MetadataValue.int(rows),
                "dagster/row_count": dg.MetadataValue.int(rows),
                **({"partition_periods": dg.MetadataValue.json(periods),
                    "delivered_for_partition": dg.MetadataValue.json(sorted(set(periods) & set(view["periods"])))}
                   if periods is not None else {}),
                "files_current": dg.MetadataValue.int(view["files"]),
                "periods": dg.MetadataValue.json(view["periods"]),
                "objects_listed": dg.MetadataValue.int(report.listed),
                "objects_downloaded": dg.MetadataValue.int(report.downloaded),
                "new_export_versions": dg.MetadataValue.json(report.new_versions),
                "quarantined": dg.MetadataValue.json(report.quarantined),
                "empty_files": dg.MetadataValue.json(report.empty),
                "refused_keys": dg.MetadataValue.json(report.refused),
                "held_back_deliveries": dg.MetadataValue.json(report.held_back),
                "left_over_files": dg.MetadataValue.json(report.stale),
                "summary": dg.MetadataValue.text(report.summary() if unreachable is None else f"skipped: {unreachable}"),
                "absent": dg.MetadataValue.bool(not view["files"]),
            }
            # An optional source with nothing delivered has no delivery time: it stays "never updated".
            | ({"dagster/last_updated_timestamp": dg.MetadataValue.timestamp(delivered_at)} if delivered_at else {})
        )

    return _ingest


def build_absent_input_asset(name: str) -> dg.AssetsDefinition:
    """`raw/<name>` for an input this estate does not declare: the typed empty view of its contract,
    so the warehouse builds the same whichever subset of inputs an estate has. Unpartitioned: there
    is nothing delivered to partition, and the view must exist before any partition of the models
    reading it runs."""
    domain = BILLING if name in billing_raw_sources() else GPU_FLEET

    @dg.asset(
        key=dg.AssetKey(["raw", name]),
        group_name="ingest",
        kinds={"duckdb"},
        owners=list(domain.owners),
        tags=domain.tags,
        description=(
            f"Input `{name}` is not declared in this estate's `sources/` folder, so it is absent: "
            f"`raw.{name}` is an empty view with the columns of `checks/files/{name}.yaml`, and the "
            "models and checks downstream of it see no rows. Declare it to land its files."
        ),
        metadata={"declared_in": "(not declared)"},
    )
    def _absent(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            ensure_manifest(con)
            con.execute(empty_view_sql(name, contract_for(name)))
        context.log.info(f"{name}: not declared in this estate; raw.{name} is empty")
        return dg.MaterializeResult(metadata={"rows": dg.MetadataValue.int(0), "absent": dg.MetadataValue.bool(True)})

    return _absent


@dg.definitions
def ingest() -> dg.Definitions:
    declared = load_sources()
    absent = sorted(set(input_names()) - {s.name for s in declared})
    return dg.Definitions(assets=[build_ingest_asset(s) for s in declared] + [build_absent_input_asset(n) for n in absent])
