"""The declared GPU-hour prices of on-prem clusters, as the table `raw.gpu_pricing`."""


import dagster as dg

from atlas_pipeline.defs.catalog import GPU_FLEET
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.ingest.gpu_pricing import GpuPrice, load_gpu_pricing, write_gpu_pricing
from atlas_pipeline.lib.run.run_plan import DECLARATION_FILE_KEY, DECLARATION_SHA_KEY, declaration_sha256
from atlas_pipeline.lib.settings import declaration_file

PRICING_FILE_NAME = "gpu_pricing.yaml"


def declared_gpu_prices() -> tuple[list[GpuPrice], str]:
    """The prices in `gpu_pricing.yaml` of the declarations folder (resolved now), and where they
    were declared. No such file: no on-prem prices (clusters without a cloud bill stay unpriced)."""
    path = declaration_file(PRICING_FILE_NAME)
    if path is None:
        return [], f"(no {PRICING_FILE_NAME} in the declarations folder)"
    return load_gpu_pricing(path), str(path)


@dg.asset(
    key=dg.AssetKey(["raw", "gpu_pricing"]), group_name="ingest", kinds={"duckdb"},
    owners=list(GPU_FLEET.owners), tags=GPU_FLEET.tags,
    metadata={DECLARATION_FILE_KEY: PRICING_FILE_NAME, "dagster/table_name": "raw.gpu_pricing"},
)
def gpu_pricing(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Declared price per GPU-hour of clusters without a cloud bill (on-prem), from `gpu_pricing.yaml`
    of the declarations folder (`$ATLAS_ASSETS`, else the repository's `assets/`), as
    `raw.gpu_pricing`. Cloud GPU nodes are priced from their bill. No file: an empty table."""
    prices, declared_in = declared_gpu_prices()
    with warehouse.connect() as con:
        rows = write_gpu_pricing(con, prices)
    context.log.info(f"{rows} declared GPU price(s) from {declared_in}")
    return dg.MaterializeResult(metadata={
        "rows": dg.MetadataValue.int(rows), "declared_in": declared_in,
        DECLARATION_SHA_KEY: declaration_sha256(declaration_file(PRICING_FILE_NAME)),
    })


@dg.definitions
def gpu_pricing_defs() -> dg.Definitions:
    return dg.Definitions(assets=[gpu_pricing])
