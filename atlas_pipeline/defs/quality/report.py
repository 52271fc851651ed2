"""The `data_quality_summary` asset: per asset × partition, checks run, passed, failed, warned and
rows quarantined, as a table SQL users and the UI can read."""

import dagster as dg

from atlas_pipeline.defs.catalog import QUALITY
from atlas_pipeline.lib.quality.quality_report import CheckResult, ensure_report, record_results, status_of

# The marts: the summary runs after them, at the end of the refresh job.
MARTS = ("focus_cost_and_usage", "fct_cost_daily", "fct_gpu_hours_daily", "fct_gpu_capacity_daily")


@dg.asset(
    key="data_quality_summary",
    group_name="reports",
    kinds={"duckdb"},
    owners=list(QUALITY.owners),
    tags=QUALITY.tags,
    deps=[dg.AssetKey(m) for m in MARTS],
    required_resource_keys={"warehouse"},
)
def data_quality_summary(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Data-quality report: for every asset and partition, the checks run, passed, failed (blocking)
    and warned, and the files and rows quarantined at landing (`main.data_quality_summary`).

    GX suites and dbt builds record their own outcomes per partition as they run (billing and
    telemetry runs included); this asset adds the run's other checks (freshness) from the event
    log, then publishes the summary view."""
    with context.resources.warehouse.connect() as con:
        ensure_report(con)
        # GX checks and dbt tests record themselves (per partition) as they run.
        recorded = set(con.execute(
            "select asset_key, check_name from quality.check_results where run_id = ?", [context.run_id]
        ).fetchall())
    results = []
    for record in context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if evaluation.check_name.startswith("gx_"):
            continue  # recorded per partition by the GX check itself
        if (evaluation.asset_key.to_user_string(), evaluation.check_name) in recorded:
            continue
        results.append(
            CheckResult(
                asset_key=evaluation.asset_key.to_user_string(),
                partition="all",
                check_name=evaluation.check_name,
                status=status_of(evaluation.passed, evaluation.severity == dg.AssetCheckSeverity.ERROR),
            )
        )
    with context.resources.warehouse.connect() as con:
        ensure_report(con)
        written = record_results(con, context.run_id, results)
        rows = con.execute(
            "select count(*), sum(checks_run), sum(checks_failed), sum(checks_warned), sum(rows_quarantined) "
            "from main.data_quality_summary"
        ).fetchone()
        problems = con.execute(
            "select * from main.data_quality_summary where checks_failed + checks_warned + files_quarantined > 0 limit 20"
        )
        header = [d[0] for d in problems.description]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in problems.fetchall()]
    return dg.MaterializeResult(
        metadata={
            "asset_partitions": dg.MetadataValue.int(rows[0]),
            "checks_run": dg.MetadataValue.int(int(rows[1] or 0)),
            "checks_failed": dg.MetadataValue.int(int(rows[2] or 0)),
            "checks_warned": dg.MetadataValue.int(int(rows[3] or 0)),
            "rows_quarantined": dg.MetadataValue.int(int(rows[4] or 0)),
            "non_gx_results_recorded": dg.MetadataValue.int(written),
            "problems": dg.MetadataValue.md(
                "\n".join(lines) if len(lines) > 2 else "No failures, warnings or quarantined files."
            ),
        }
    )
