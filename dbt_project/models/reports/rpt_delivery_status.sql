{#- Per export source and period: the delivery it is served from (how many files, how many of them
    quarantined, rows, since when), whether that delivery is complete, and the deliveries held back
    since (empty, or much smaller than it: `atlas accept <source> <period>` makes one current). -#}
with

current_files as (
    select * from {{ source_or_empty('quality_outputs', 'data_quality_summary', sibling='landing.current_files') }} as current_files
),

judgements as (
    select * from {{ source_or_empty('quality_outputs', 'data_quality_summary', sibling='landing.delivery_judgements') }} as judgements
),

served as (
    select
        source,
        period,
        max(export_version) as export_version,
        count(*) as files,
        count(*) filter (where status = 'quarantined') as files_quarantined,
        coalesce(sum(row_count) filter (where status = 'landed'), 0) as rows_served,
        bool_and(delivery_complete) as delivery_complete,
        max(last_modified) as delivered_at,
        max(current_since) as current_since
    from current_files
    group by 1, 2
),

held_back as (
    select
        source,
        period,
        count(*) as deliveries_held_back,
        max(reason) filter (where judged_at = newest) as newest_held_back_reason
    from (
        select *, max(judged_at) over (partition by source, period) as newest
        from judgements
        where verdict = 'held_back' and accepted_at is null
    ) as pending
    group by 1, 2
),

final as (
    select
        coalesce(served.source, held_back.source) as source,
        coalesce(served.period, held_back.period) as period,
        served.export_version,
        coalesce(served.files, 0) as files,
        coalesce(served.files_quarantined, 0) as files_quarantined,
        coalesce(served.rows_served, 0) as rows_served,
        coalesce(served.delivery_complete, false) as delivery_complete,
        served.delivered_at,
        served.current_since,
        coalesce(held_back.deliveries_held_back, 0) as deliveries_held_back,
        held_back.newest_held_back_reason,
        case
            when coalesce(held_back.deliveries_held_back, 0) > 0 then 'held back: accept or re-deliver'
            when not coalesce(served.delivery_complete, false) then 'incomplete'
            else 'ok'
        end as status
    from served
    full outer join held_back
        on held_back.source = served.source and held_back.period = served.period
)

select * from final
