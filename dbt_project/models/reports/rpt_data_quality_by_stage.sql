{#- Data quality per pipeline stage: checks run, passed, failed (blocking) and warned, and files and
    rows quarantined. The stage comes from the asset key by the project's naming convention
    (raw/<source> ingest, stg_ staging, int_ intermediate, forecast* forecasts, else marts), as
    atlas_pipeline.lib.report.overview_report.stage_of_asset does for Dagster's event log. -#}
with

summary as (
    select * from {{ source_or_empty('quality_outputs', 'data_quality_summary') }} as summary
),

staged as (
    select
        case
            when asset_key like 'raw/%' then 'ingest'
            when asset_key like 'stg\_%' {{ like_escape_backslash() }} then 'staging'
            when asset_key like 'int\_%' {{ like_escape_backslash() }} then 'intermediate'
            when asset_key like 'forecast%' then 'forecasts'
            else 'marts'
        end as stage,
        *
    from summary
),

final as (
    select
        stage,
        count(distinct asset_key) as assets,
        sum(checks_run) as checks_run,
        sum(checks_passed) as checks_passed,
        sum(checks_failed) as checks_failed,
        sum(checks_warned) as checks_warned,
        sum(files_quarantined) as files_quarantined,
        sum(rows_quarantined) as rows_quarantined,
        max(last_checked_at) as last_checked_at
    from staged
    group by stage
)

select * from final
