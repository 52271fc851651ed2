{#- Per export source: what landed and when (newest period, newest delivery, last landing), what was
    quarantined, its checks (latest outcome per check and partition) and its freshness check's
    latest status (the declared max_lateness_hours in assets/sources/<name>.yaml). A declared
    source that never delivered still appears through its freshness check. -#}
with

manifest as (
    select * from {{ source_or_empty('quality_outputs', 'data_quality_summary', sibling='landing.manifest') }} as manifest
),

summary as (
    select * from {{ source_or_empty('quality_outputs', 'data_quality_summary') }} as summary
),

results as (
    select * from {{ source_or_empty('quality_outputs', 'data_quality_summary', sibling='quality.check_results') }} as results
),

deliveries as (
    select
        source,
        count(*) filter (where status = 'landed') as files_landed,
        count(*) filter (where status = 'quarantined') as files_quarantined,
        coalesce(sum(row_count) filter (where status = 'landed'), 0) as rows_landed,
        max(period) filter (where status = 'landed') as newest_period,
        max(last_modified) filter (where status = 'landed') as newest_delivery_at,
        max(landed_at) as last_landed_at
    from manifest
    group by source
),

checks as (
    select
        substr(asset_key, 5) as source,
        sum(checks_run) as checks_run,
        sum(checks_passed) as checks_passed,
        sum(checks_failed) as checks_failed,
        sum(checks_warned) as checks_warned,
        sum(rows_quarantined) as rows_quarantined,
        max(last_checked_at) as last_checked_at
    from summary
    where asset_key like 'raw/%'
    group by substr(asset_key, 5)
),

freshness as (
    select
        substr(asset_key, 5) as source,
        status as freshness_status,
        evaluated_at as freshness_checked_at
    from results
    where asset_key like 'raw/%'
        and check_name like '%freshness%'
    qualify row_number() over (partition by asset_key order by evaluated_at desc) = 1
),

sources as (
    select source from deliveries
    union
    select source from checks
    union
    select source from freshness
),

final as (
    select
        sources.source,
        coalesce(deliveries.files_landed, 0) as files_landed,
        coalesce(deliveries.rows_landed, 0) as rows_landed,
        deliveries.newest_period,
        deliveries.newest_delivery_at,
        deliveries.last_landed_at,
        coalesce(deliveries.files_quarantined, 0) as files_quarantined,
        coalesce(checks.rows_quarantined, 0) as rows_quarantined,
        coalesce(checks.checks_run, 0) as checks_run,
        coalesce(checks.checks_passed, 0) as checks_passed,
        coalesce(checks.checks_failed, 0) as checks_failed,
        coalesce(checks.checks_warned, 0) as checks_warned,
        freshness.freshness_status,
        freshness.freshness_checked_at,
        case
            when coalesce(checks.checks_failed, 0) > 0 then 'failing'
            when freshness.freshness_status = 'warned' then 'stale'
            when coalesce(checks.checks_warned, 0) > 0 or coalesce(deliveries.files_quarantined, 0) > 0 then 'warnings'
            when coalesce(deliveries.files_landed, 0) = 0 then 'no deliveries'
            else 'ok'
        end as status
    from sources
    left join deliveries on sources.source = deliveries.source
    left join checks on sources.source = checks.source
    left join freshness on sources.source = freshness.source
)

select * from final
