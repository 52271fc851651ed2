"""The `gpu_scheduler_hints` asset: the newest day of per-GPU scores as files Slurm and Kubernetes
can apply (lib/report/gpu_scheduler_hints.py), rebuilt by report_job after every refresh."""

import dagster as dg

from atlas_pipeline.defs.catalog import GPU_FLEET
from atlas_pipeline.defs.resources import WAREHOUSE_LOCK_RETRY, Warehouse
from atlas_pipeline.lib.report.gpu_scheduler_hints import newest_hints, write_hints
from atlas_pipeline.lib.warehouse.connections import connect_reader


@dg.asset(
    key="gpu_scheduler_hints",
    group_name="reports",
    kinds={"slurm", "kubernetes"},
    owners=list(GPU_FLEET.owners),
    tags=GPU_FLEET.tags,
    deps=[dg.AssetKey("fct_gpu_node_scores_daily"), dg.AssetKey("fct_gpu_scores_daily")],
    metadata={"path": "$ATLAS_HOME/reports/scheduler/latest/"},
    retry_policy=WAREHOUSE_LOCK_RETRY,
)
def gpu_scheduler_hints(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per-GPU scores for schedulers, for the newest scored day (fct_gpu_node_scores_daily):
    `$ATLAS_HOME/reports/scheduler/<date>/slurm/<cluster>.sh` (`scontrol update NodeName=...
    Weight=...`: worse nodes get higher weights, so Slurm uses them last),
    `kubernetes/<cluster>.sh` and `.json` (node labels `atlas.gpu/score`, `atlas.gpu/health`, as
    `kubectl label` commands and merge patches) and `gpu_scores.csv` (every GPU's score and why);
    `reports/scheduler/latest` points at the newest day. Nothing is applied: README "Per-GPU scores
    for schedulers" says how."""
    # As every reader: locked down, queries only (lib/warehouse/connections.py connect_reader).
    with connect_reader(warehouse.paths().warehouse) as con:
        hints = newest_hints(con)
    if hints is None:
        context.log.info("no GPU scores yet (no GPU telemetry): no scheduler files written")
        return dg.MaterializeResult(metadata={"usage_date": None, "nodes": dg.MetadataValue.int(0)})
    day = write_hints(hints, warehouse.paths().scheduler_hints)
    worst = sorted(hints.nodes, key=lambda n: (n.score, n.hostname))[:10]
    preview = "| node | cluster | score | health | Slurm weight |\n|---|---|---:|---|---:|\n" + "\n".join(
        f"| {n.hostname} | {n.cluster} | {n.score} | {n.health} | {n.slurm_weight} |" for n in worst
    )
    context.log.info(f"wrote scheduler hints for {hints.usage_date} ({len(hints.nodes)} nodes) to {day}")
    return dg.MaterializeResult(
        metadata={
            "usage_date": str(hints.usage_date),
            "path": dg.MetadataValue.path(str(day)),
            "nodes": dg.MetadataValue.int(len(hints.nodes)),
            "nodes_below_100": dg.MetadataValue.int(sum(1 for n in hints.nodes if n.score < 100)),
            "worst_nodes": dg.MetadataValue.md(preview),
        }
    )


@dg.definitions
def scheduler_hints_defs() -> dg.Definitions:
    return dg.Definitions(assets=[gpu_scheduler_hints])
