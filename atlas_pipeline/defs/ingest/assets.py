"""Ingest assets: discover an export source's files, land new deliveries immutably, and point the
source's `raw.<name>` view at the current delivery of every period."""


import dagster as dg

from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.landing import NoDataError, land_source, refresh_raw_view
from atlas_pipeline.lib.object_store import open_store
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.sources import ExportSource, load_sources


def build_ingest_asset(source: ExportSource) -> dg.AssetsDefinition:
    """The `raw/<source>` asset for one declared export source."""

    @dg.asset(
        key=dg.AssetKey(["raw", source.name]),
        group_name="ingest",
        kinds={"duckdb", source.provider} if source.provider != "telemetry" else {"duckdb"},
        description=(
            f"{source.description}\n\nLands new or changed files from `{source.location}` "
            f"(`{source.include}`) into immutable landing, then serves the current delivery of every "
            f"period as the view `raw.{source.name}`. Declared in `assets/sources/{source.name}.yaml`."
        ),
        metadata={"format": source.format, "partitioning": source.partitioning, "declared_in": source.declared_in},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        paths = warehouse.paths()
        store = open_store(source.resolved_location())
        with warehouse.connect() as con:
            report = land_source(con, source, store, paths.landing, paths.quarantine)
            context.log.info(report.summary())
            for item in report.quarantined:
                context.log.warning(f"quarantined {item['file']}: {item['problem']}")
            for refused in report.refused:
                context.log.warning(refused)
            try:
                view = refresh_raw_view(con, source)
            except NoDataError as exc:
                raise dg.Failure(description=str(exc)) from exc
            if not view["files"]:
                context.log.info(f"{source.name}: no files (optional source); raw view is empty")
            rows = con.execute(f"select count(*) from raw.{source.name}").fetchone()[0]
            # When the newest current file was delivered: freshness checks measure the data's age, not the run's.
            [(delivered_at,)] = con.execute(
                "select max(last_modified) from landing.current_files where source = ? and status = 'landed'", [source.name]
            ).fetchall()
        return dg.MaterializeResult(
            metadata={
                "rows": dg.MetadataValue.int(rows),
                "files_current": dg.MetadataValue.int(view["files"]),
                "periods": dg.MetadataValue.json(view["periods"]),
                "objects_listed": dg.MetadataValue.int(report.listed),
                "objects_downloaded": dg.MetadataValue.int(report.downloaded),
                "new_export_versions": dg.MetadataValue.json(report.new_versions),
                "quarantined": dg.MetadataValue.json(report.quarantined),
                "empty_files": dg.MetadataValue.json(report.empty),
                "refused_keys": dg.MetadataValue.json(report.refused),
                "summary": dg.MetadataValue.text(report.summary()),
            }
            # An optional source with nothing delivered has no delivery time: it stays "never updated".
            | ({"dagster/last_updated_timestamp": dg.MetadataValue.timestamp(delivered_at)} if delivered_at else {})
        )

    return _ingest


@dg.definitions
def ingest() -> dg.Definitions:
    return dg.Definitions(assets=[build_ingest_asset(s) for s in load_sources(DECLARATIONS_DIR / "sources")])
