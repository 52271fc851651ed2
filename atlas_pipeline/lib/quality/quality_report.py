"""The data-quality report: every check outcome per asset × partition, and what was quarantined.

`quality.check_results` holds one row per evaluation (check × partition); GX checks append their
own rows as they run (so a failing blocking check is recorded even when it stops the run), and the
`data_quality_summary` asset appends the run's other checks (dbt tests, freshness). The view
`main.data_quality_summary` keeps the latest evaluation of each check and partition and adds the
files and rows quarantined at landing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

REPORT_DDL = """
create schema if not exists quality;
create table if not exists quality.check_results (
    run_id varchar,
    asset_key varchar not null,         -- e.g. raw/aws_cur2, focus_cost_and_usage
    partition varchar not null,         -- billing period, day, or 'all'
    check_name varchar not null,
    status varchar not null,            -- passed | failed (blocking severity) | warned (warning severity) | skipped
    rows_checked bigint,
    evaluated_at timestamptz not null
);
create schema if not exists landing;
create table if not exists landing.manifest (
    source varchar not null, object_key varchar not null, period varchar not null, export_version varchar not null,
    size_bytes bigint not null, fingerprint varchar not null, sha256 varchar, last_modified timestamptz not null,
    landed_path varchar, landed_at timestamptz not null, status varchar not null, row_count bigint, message varchar,
    primary key (source, period, export_version, object_key)
);
create or replace view main.data_quality_summary as
with latest as (
    select * from quality.check_results
    qualify row_number() over (partition by asset_key, partition, check_name order by evaluated_at desc) = 1
),
checks as (
    select
        asset_key,
        partition,
        count(*) as checks_run,
        count(*) filter (where status = 'passed') as checks_passed,
        count(*) filter (where status = 'failed') as checks_failed,
        count(*) filter (where status = 'warned') as checks_warned,
        count(*) filter (where status = 'skipped') as checks_skipped,
        max(evaluated_at) as last_checked_at
    from latest
    group by all
),
-- A quarantined file whose period was later re-delivered clean stays listed: nothing is lost silently.
quarantined as (
    select
        'raw/' || source as asset_key,
        period as partition,
        count(*) as files_quarantined,
        coalesce(sum(row_count), 0) as rows_quarantined
    from landing.manifest
    where status = 'quarantined'
    group by all
)
select
    asset_key,
    partition,
    coalesce(checks.checks_run, 0) as checks_run,
    coalesce(checks.checks_passed, 0) as checks_passed,
    coalesce(checks.checks_failed, 0) as checks_failed,
    coalesce(checks.checks_warned, 0) as checks_warned,
    coalesce(quarantined.files_quarantined, 0) as files_quarantined,
    coalesce(quarantined.rows_quarantined, 0) as rows_quarantined,
    checks.last_checked_at
from checks
full outer join quarantined using (asset_key, partition)
order by asset_key, partition
"""


@dataclass(frozen=True)
class CheckResult:
    """One check outcome for one partition of one asset."""

    asset_key: str
    partition: str
    check_name: str
    status: str  # passed | failed | warned
    rows_checked: int | None = None


def ensure_report(con: duckdb.DuckDBPyConnection) -> None:
    """Create the results table and the summary view (idempotent)."""
    con.execute(REPORT_DDL)


def record_results(con: duckdb.DuckDBPyConnection, run_id: str | None, results: Iterable[CheckResult]) -> int:
    """Append outcomes to `quality.check_results`; returns how many rows were written."""
    ensure_report(con)
    now = datetime.now(UTC)
    rows = [(run_id, r.asset_key, r.partition, r.check_name, r.status, r.rows_checked, now) for r in results]
    if rows:
        con.executemany("insert into quality.check_results values (?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def status_of(passed: bool, blocking_severity: bool) -> str:
    return "passed" if passed else ("failed" if blocking_severity else "warned")
