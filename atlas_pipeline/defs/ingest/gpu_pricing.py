"""The declared GPU-hour prices of on-prem clusters, as the table `raw.gpu_pricing`."""


import dagster as dg

from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.gpu_pricing import load_gpu_pricing, write_gpu_pricing
from atlas_pipeline.lib.settings import DECLARATIONS_DIR

PRICING_FILE = DECLARATIONS_DIR / "gpu_pricing.yaml"


@dg.asset(key=dg.AssetKey(["raw", "gpu_pricing"]), group_name="ingest", kinds={"duckdb"})
def gpu_pricing(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Declared price per GPU-hour of clusters without a cloud bill (on-prem), from
    `assets/gpu_pricing.yaml`, as `raw.gpu_pricing`. Cloud GPU nodes are priced from their bill."""
    prices = load_gpu_pricing(PRICING_FILE)
    with warehouse.connect() as con:
        rows = write_gpu_pricing(con, prices)
    context.log.info(f"{rows} declared GPU price(s) from {PRICING_FILE.name}")
    return dg.MaterializeResult(
        metadata={"rows": dg.MetadataValue.int(rows), "declared_in": str(PRICING_FILE)}
    )


@dg.definitions
def gpu_pricing_defs() -> dg.Definitions:
    return dg.Definitions(assets=[gpu_pricing])
