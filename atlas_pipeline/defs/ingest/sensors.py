"""One sensor per export source: list the store, and when a delivery appears that landing has not
seen (a new billing period, or a restated one), request a warehouse refresh naming those deliveries."""

import dagster as dg
import duckdb

from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.landing import pending_deliveries
from atlas_pipeline.lib.object_store import StoreUnavailable, open_store
from atlas_pipeline.lib.sources import ExportSource, load_sources


def build_delivery_sensor(source: ExportSource) -> dg.SensorDefinition:
    """`<source>_deliveries`: a run of the refresh job per set of new deliveries (run key = that set,
    so the same delivery never triggers twice)."""

    @dg.sensor(
        name=f"{source.name}_deliveries",
        job_name="warehouse_refresh_job",
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Requests a warehouse refresh when `{source.location}` has a delivery not yet landed.",
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> dg.SensorResult | dg.SkipReason:
        try:
            store = open_store(source.resolved_location())
            if warehouse.paths().warehouse.exists():
                with warehouse.connect(read_only=True) as con:
                    pending = pending_deliveries(con, source, store)
            else:
                with duckdb.connect() as con:  # nothing landed yet: every delivery is new
                    pending = pending_deliveries(con, source, store)
        except StoreUnavailable as exc:
            return dg.SkipReason(str(exc))
        except duckdb.IOException as exc:  # a run holds the warehouse: look again next tick
            return dg.SkipReason(f"warehouse busy: {str(exc).splitlines()[0]}")
        if not pending:
            return dg.SkipReason(f"{source.name}: no new deliveries")
        deliveries = ",".join(pending)
        periods = ",".join(sorted({p.split("@")[0] for p in pending}))
        context.log.info(f"{source.name}: new deliveries {deliveries}")
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"{source.name}:{deliveries}",
                    tags={"atlas/source": source.name, "atlas/periods": periods},
                )
            ]
        )

    return _sensor


@dg.definitions
def delivery_sensors() -> dg.Definitions:
    return dg.Definitions(sensors=[build_delivery_sensor(s) for s in load_sources()])
