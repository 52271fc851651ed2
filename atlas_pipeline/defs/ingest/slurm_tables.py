"""The Slurm lookup tables dbt joins on: NodeLists expanded to hosts, and every sacct file of the
current deliveries (lib/ingest/slurm_nodelists.py), rebuilt after `raw/slurm_jobs` lands."""


import dagster as dg

from atlas_pipeline.defs.catalog import GPU_FLEET
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.ingest.slurm_nodelists import write_slurm_node_lists, write_slurm_report_files

SACCT_SOURCE = "slurm_jobs"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(["raw", "slurm_node_lists"]), deps=[dg.AssetKey(["raw", SACCT_SOURCE])], group_name="ingest",
            kinds={"duckdb"}, owners=list(GPU_FLEET.owners), tags=GPU_FLEET.tags,
            description="Every sacct NodeList expanded to its hosts with python-hostlist (`gpu-node-[00-03,07]` -> "
                        "gpu-node-00 .. gpu-node-03, gpu-node-07), one row per host, as `raw.slurm_node_lists`; "
                        "a NodeList that does not parse keeps a row with its problem.",
        ),
        dg.AssetSpec(
            dg.AssetKey(["raw", "slurm_report_files"]), deps=[dg.AssetKey(["raw", SACCT_SOURCE])],
            group_name="ingest", kinds={"duckdb"}, owners=list(GPU_FLEET.owners), tags=GPU_FLEET.tags,
            description="Every current sacct file, those listing no job included (a day a cluster reported with "
                        "nothing running is still reported), as `raw.slurm_report_files`.",
        ),
    ],
)
def slurm_tables(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Expand the NodeLists of `raw.slurm_jobs` and list its current files, for dbt to join on."""
    with warehouse.connect() as con:
        hosts = write_slurm_node_lists(con, SACCT_SOURCE)
        files = write_slurm_report_files(con, SACCT_SOURCE)
    context.log.info(f"{hosts} NodeList host row(s), {files} sacct file(s)")
    yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", "slurm_node_lists"]),
                               metadata={"rows": dg.MetadataValue.int(hosts)})
    yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", "slurm_report_files"]),
                               metadata={"rows": dg.MetadataValue.int(files)})


@dg.definitions
def slurm_tables_defs() -> dg.Definitions:
    return dg.Definitions(assets=[slurm_tables])
