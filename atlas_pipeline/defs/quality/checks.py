"""Every suite in `checks/` becomes an asset check on its asset; blocking suites stop downstream
assets when they fail (dbt tests become asset checks through dagster-dbt separately)."""

from pathlib import Path

import dagster as dg
import duckdb

from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.expectations import DeclaredSuite, load_suites, validate
from atlas_pipeline.lib.settings import CHECKS_DIR


def build_suite_check(suite: DeclaredSuite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset)),
        name=f"gx_{suite.name}",
        blocking=suite.blocking,
        description=f"{suite.description} (Great Expectations suite {suite.declared_in})",
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        severity = dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN
        with warehouse.connect() as con:
            try:
                df = con.execute(suite.fetch_sql()).df()
            except duckdb.Error as exc:
                return dg.AssetCheckResult(
                    passed=False, severity=severity,
                    metadata={"error": f"cannot read {suite.relation}: {str(exc).splitlines()[0]}"},
                )
        outcome = validate(suite, df)
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=severity,
            metadata={
                "rows_validated": len(df),
                "expectations_evaluated": outcome.evaluated,
                "expectations_failed": len(outcome.failed),
                "failures": dg.MetadataValue.json(outcome.failed),
            },
        )

    return _check


def build_suite_checks(checks_dir: Path = CHECKS_DIR) -> list[dg.AssetChecksDefinition]:
    return [build_suite_check(suite) for suite in load_suites(checks_dir)]


@dg.definitions
def quality() -> dg.Definitions:
    return dg.Definitions(asset_checks=build_suite_checks())
