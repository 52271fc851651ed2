"""Every Great Expectations suite in `checks/` becomes an asset check `gx_<suite>` on its asset.

A failing `blocking` suite stops every downstream asset in the run (dbt tests become asset checks
separately, through dagster-dbt). GX itself is imported only when a check runs.
"""

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import dagster as dg

from atlas_pipeline.lib.quality.expectations import (
    DeclaredSuite,
    RelationUnavailable,
    SuiteOutcome,
    fetch_frame,
    load_suites,
    validate,
)
from atlas_pipeline.lib.quality.quality_report import CheckResult, record_results, status_of
from atlas_pipeline.lib.settings import CHECKS_DIR, REPO_ROOT


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def partition_results(suite: DeclaredSuite, outcome: SuiteOutcome | None, df=None) -> list[CheckResult]:
    """The outcome per partition of the validated rows (`all` without a partition column)."""
    asset = "/".join(suite.asset)
    if outcome is None:  # the relation could not be read
        return [CheckResult(asset, "all", suite.check_name, status_of(False, suite.blocking))]
    column = suite.partition_column
    if not column or df is None or column not in df.columns or df.empty:
        return [CheckResult(asset, "all", suite.check_name, status_of(outcome.success, suite.blocking), outcome.rows)]
    counts = df[column].astype("string").fillna("unknown").value_counts()
    failed = set(outcome.failed_partitions)
    # Expectations without row-level offenders (row counts, uniqueness) fail every partition.
    unattributed = any(not f.partitions for f in outcome.failed)
    return [
        CheckResult(
            asset, str(p), suite.check_name,
            status_of(not (unattributed or str(p) in failed), suite.blocking), int(n),
        )
        for p, n in sorted(counts.items())
    ]


def run_partitions(context: dg.AssetCheckExecutionContext) -> list[str] | None:
    """The partition keys of the run the check is part of (None: an unpartitioned run)."""
    op = context.op_execution_context
    try:
        if op.has_partition_key or op.has_partition_key_range:
            return list(context.partition_keys)
    except dg.DagsterInvariantViolationError:
        pass
    return None


def scoped_to_partitions(con, suite: DeclaredSuite, keys: list[str] | None) -> DeclaredSuite:
    """The suite reading only the run's partitions: a partitioned run validates the periods it built
    (the others were validated when they were built). A relation with the raw files' `x_period`
    (the delivery day or month) is filtered on it, so DuckDB skips the other files; else on the
    suite's partition column. A suite without either reads everything."""
    if not keys:
        return suite
    column = suite.partition_column
    if not suite.query:
        try:
            con.execute(f"select * from {suite.relation} limit 0")
            present = {d[0].lower() for d in con.description}
        except Exception:  # noqa: BLE001 - unreadable: fetch_frame reports it
            return suite
        if "x_period" in present:
            column = "x_period"
    if not column:
        return suite
    values = ", ".join("'" + k.replace("'", "''") + "'" for k in keys)
    query = f'select * from {suite.source_sql} where cast("{column}" as varchar) in ({values})'
    return replace(suite, query=query)


def skip_reason(con, suite: DeclaredSuite, keys: list[str] | None = None) -> str | None:
    """Why a suite has nothing to validate, or None. A raw relation is empty when its source is
    absent from this estate (nothing ever delivered: skipped) — but a source whose files were all
    quarantined is present and must fail. A staging or mart relation with no rows has nothing
    upstream (the row-conservation checks prove the emptiness is right)."""
    try:
        has_rows = con.execute(f"select exists (select 1 from {suite.source_sql})").fetchone()[0]
    except Exception:  # noqa: BLE001 - an unreadable relation is the check's to report
        return None
    if has_rows:
        return None
    scope = f" for {', '.join(keys)}" if keys else ""
    if suite.asset[0] == "raw":
        source = suite.asset[-1]
        try:
            sql = "select count(*) from landing.manifest where source = ?"
            params: list = [source]
            if keys:
                sql += " and period in (" + ", ".join("?" for _ in keys) + ")"
                params += keys
            delivered = con.execute(sql, params).fetchone()[0]
        except Exception:  # noqa: BLE001 - no manifest yet: nothing delivered anywhere
            delivered = 0
        if delivered:
            return None
        if keys:
            return f"source {source} delivered nothing{scope}: raw.{source} has no rows{scope}"
        return f"source {source} is absent from this estate: its location delivered no files, so raw.{source} is empty"
    return f"{suite.relation} has no rows{scope} to validate (nothing upstream produced any)"


def build_suite_check(suite: DeclaredSuite) -> dg.AssetChecksDefinition:
    """The asset check for one declared suite: fetch the declared columns, validate, report."""
    severity = dg.AssetCheckSeverity.ERROR if suite.blocking else dg.AssetCheckSeverity.WARN
    suite_file = _shown_path(suite.declared_in)

    @dg.asset_check(
        asset=dg.AssetKey(list(suite.asset)),
        name=suite.check_name,
        blocking=suite.blocking,
        description=(
            f"{suite.description or 'Great Expectations suite'} "
            f"({len(suite.expectations)} expectations on `{suite.relation}`, declared in `{suite_file}`"
            f"{'; blocks downstream assets' if suite.blocking else ''})"
        ),
        # Resolved from the run's resources by key: importing the resource class here would pull
        # dagster-dbt into this module's import time.
        required_resource_keys={"warehouse"},
        metadata={"suite_file": suite_file, "relation": suite.relation},
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        keys = run_partitions(context)
        with context.resources.warehouse.connect(read_only=False) as con:
            scoped = scoped_to_partitions(con, suite, keys)
            if (reason := skip_reason(con, scoped, keys)) is not None:
                record_results(con, context.op_execution_context.run_id,
                               [CheckResult("/".join(suite.asset), key, suite.check_name, "skipped")
                                for key in keys or ["all"]])
                return dg.AssetCheckResult(
                    passed=True,
                    severity=severity,
                    description=f"Skipped: {reason}",
                    metadata={"skipped": dg.MetadataValue.bool(True), "skipped_reason": reason,
                              "relation": suite.relation},
                )
            try:
                df = fetch_frame(con, scoped)
            except RelationUnavailable as exc:
                context.log.error(f"{suite.check_name}: {exc}")
                record_results(con, context.op_execution_context.run_id, partition_results(suite, None))
                return dg.AssetCheckResult(
                    passed=False,
                    severity=severity,
                    description=str(exc),
                    metadata={"relation": suite.relation, "error": dg.MetadataValue.text(str(exc))},
                )
        outcome = validate(suite, df)
        with context.resources.warehouse.connect(read_only=False) as con:
            record_results(con, context.op_execution_context.run_id, partition_results(suite, outcome, df))
        summary = (
            f"{len(outcome.failed)} of {outcome.evaluated} expectations failed"
            if outcome.failed
            else f"all {outcome.evaluated} expectations passed"
        )
        rows = f"{outcome.rows} sampled rows" if suite.sample_rows else f"{outcome.rows} rows"
        where = f" (partitions {', '.join(outcome.failed_partitions)})" if outcome.failed_partitions else ""
        return dg.AssetCheckResult(
            passed=outcome.success,
            severity=severity,
            description=f"{summary} on {rows} of {suite.relation}{where}",
            metadata={
                "failed_partitions": dg.MetadataValue.json(outcome.failed_partitions),
                "relation": suite.relation,
                "rows_validated": dg.MetadataValue.int(outcome.rows),
                "sampled": dg.MetadataValue.bool(bool(suite.sample_rows)),
                "expectations_evaluated": dg.MetadataValue.int(outcome.evaluated),
                "expectations_failed": dg.MetadataValue.int(len(outcome.failed)),
                "failed_expectations": dg.MetadataValue.json(outcome.to_json_dict()["failed"]),
                "failures": dg.MetadataValue.md(outcome.failures_markdown()),
            },
        )

    return _check


def build_suite_checks(suites: Iterable[DeclaredSuite]) -> list[dg.AssetChecksDefinition]:
    """One asset check per suite; pass `load_suites(<checks dir>)`."""
    return [build_suite_check(suite) for suite in suites]


@dg.definitions
def quality() -> dg.Definitions:
    return dg.Definitions(asset_checks=build_suite_checks(load_suites(CHECKS_DIR)))
