"""The two checks every ingest asset reports with its materialization: is the store reachable
(warns), and are the landed files it serves the ones that landed (blocks)."""

import dagster as dg
import duckdb

from atlas_pipeline.lib.ingest.landed_integrity import verify_current_files
from atlas_pipeline.lib.ingest.sources import ExportSource


def landing_check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "store_reachable", asset=key,
            description="Warns when the store could not be listed or read (after the SDK's retries): this "
            "source is skipped for the run and keeps its current deliveries; every other source goes on.",
        ),
        dg.AssetCheckSpec(
            "landed_files_intact", asset=key, blocking=True,
            description="Every current landed file (as delivered, and its typed parquet) still has the sha256 "
            "recorded when it landed; a changed or missing file blocks the build (lib/ingest/landed_integrity.py).",
        ),
    ]


def store_check(source: ExportSource, unreachable: str | None) -> dg.AssetCheckResult:
    """Passed, or a warning naming why the store could not be listed or read."""
    if unreachable is None:
        return dg.AssetCheckResult(check_name="store_reachable", passed=True, description=f"{source.location} listed")
    return dg.AssetCheckResult(
        check_name="store_reachable",
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"skipped this run: {unreachable}; raw.{source.name} keeps its current deliveries",
        metadata={"error": dg.MetadataValue.text(unreachable)},
    )


def integrity_check(con: duckdb.DuckDBPyConnection, source: ExportSource) -> dg.AssetCheckResult:
    """Re-hash the source's current landed files; fail (blocking) naming each changed one."""
    report = verify_current_files(con, source.name)
    return dg.AssetCheckResult(
        check_name="landed_files_intact",
        passed=report.intact,
        severity=dg.AssetCheckSeverity.ERROR,
        description=report.description(),
        metadata={
            "files_verified": dg.MetadataValue.int(report.verified),
            "digests_recorded_now": dg.MetadataValue.int(report.recorded),
            "changed_files": dg.MetadataValue.json([m.__dict__ for m in report.mismatches]),
        } | ({"remedy": dg.MetadataValue.text(report.remedy())} if report.mismatches else {}),
    )
