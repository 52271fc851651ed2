{#- What fragmentation cost, per Slurm cluster and UTC day.

    Stranded GPU-hours: free GPUs on partly used nodes that no job waiting at that moment could
    use (macro stranded_gpu_capacity over int_gpu_node_occupancy_intervals and the waiting jobs of
    int_gpu_pending_job_shapes), priced at the node's price per GPU-hour in that hour
    (int_gpu_node_hourly_cost). Free GPUs with no job waiting are idle, not stranded.

    Placed wider than needed: the GPU-hours and allocated cost, on this day, of the multi-GPU jobs
    fct_gpu_job_placement judges spread over more nodes, racks, leaf switches or NVLink domains than
    what was free at their start required (fct_gpu_cost_allocation's cost; one definition). -#}
with

node_intervals as (
    select * from {{ ref('int_gpu_node_occupancy_intervals') }}
),

pending as (
    select * from {{ ref('int_gpu_pending_job_shapes') }}
),

stranded as (
    {{ stranded_gpu_capacity('node_intervals', 'pending') }}
),

prices as (
    select hostname, hour_start, price_per_gpu_hour, currency from {{ ref('int_gpu_node_hourly_cost') }}
),

stranded_daily as (
    select
        stranded.usage_date,
        stranded.cluster,
        max(prices.currency) as currency,
        sum(stranded.gpu_count * stranded.interval_seconds) / 3600 as gpu_hours_reported,
        sum(case when stranded.is_partly_used then stranded.gpus_free * stranded.interval_seconds else 0 end) / 3600
            as gpu_hours_free_on_partly_used_nodes,
        sum(stranded.stranded_gpu_seconds) / 3600 as gpu_hours_stranded,
        sum(cast(round(prices.price_per_gpu_hour * stranded.stranded_gpu_seconds / 3600, 12) as {{ money_type() }}))
            as stranded_cost,
        -- priced where it matters: every interval with stranded GPUs has a price
        count(case when stranded.stranded_gpu_seconds > 0 and prices.price_per_gpu_hour is null then 1 end) = 0
            as is_fully_priced
    from stranded
    left join prices
        on stranded.hostname = prices.hostname
        and stranded.hour_start = prices.hour_start
    group by stranded.usage_date, stranded.cluster
),

reported_days as (
    select distinct cluster, usage_date from node_intervals
),

-- demand: GPU-hours jobs spent waiting, per reported day
waiting_daily as (
    select
        reported_days.usage_date,
        reported_days.cluster,
        count(distinct pending.job_key) as jobs_waiting,
        sum(pending.job_gpus * {{ dbt.datediff(
            'greatest(pending.pending_from, cast(reported_days.usage_date as timestamp))',
            'least(pending.pending_until, ' ~ dbt.dateadd('day', 1, 'cast(reported_days.usage_date as timestamp)') ~ ')',
            'second') }}) / 3600 as gpu_hours_waited
    from reported_days
    inner join pending
        on reported_days.cluster = pending.cluster
        and pending.pending_from < {{ dbt.dateadd('day', 1, 'cast(reported_days.usage_date as timestamp)') }}
        and pending.pending_until > cast(reported_days.usage_date as timestamp)
    group by reported_days.usage_date, reported_days.cluster
),

placement as (
    select job_key, is_wider_than_needed, start_date, cluster from {{ ref('fct_gpu_job_placement') }}
),

placed_daily as (
    select
        costs.usage_date,
        costs.cluster,
        max(costs.currency) as currency,
        sum(costs.gpu_hours_allocated) as gpu_hours_multi_gpu_jobs,
        sum(case when placement.is_wider_than_needed then costs.gpu_hours_allocated else 0 end)
            as gpu_hours_placed_wider,
        sum(case when placement.is_wider_than_needed then costs.allocated_cost else 0 end) as cost_placed_wider
    from {{ ref('fct_gpu_cost_allocation') }} as costs
    inner join placement
        on costs.job_key = placement.job_key
    where costs.allocation_type = 'job'
    group by costs.usage_date, costs.cluster
),

started_daily as (
    select
        start_date as usage_date,
        cluster,
        count(*) as multi_gpu_jobs_started,
        sum(case when is_wider_than_needed then 1 else 0 end) as jobs_started_wider
    from placement
    group by start_date, cluster
),

days as (
    select usage_date, cluster from stranded_daily
    union
    select usage_date, cluster from placed_daily
),

final as (
    select
        -- grain
        {{ dbt.concat(["cast(days.usage_date as " ~ dbt.type_string() ~ ")", "'|'", 'days.cluster']) }}
            as fragmentation_daily_key,
        days.usage_date,
        days.cluster,
        coalesce(stranded_daily.currency, placed_daily.currency) as currency,

        -- stranded
        coalesce(stranded_daily.gpu_hours_reported, 0) as gpu_hours_reported,
        coalesce(stranded_daily.gpu_hours_free_on_partly_used_nodes, 0) as gpu_hours_free_on_partly_used_nodes,
        coalesce(stranded_daily.gpu_hours_stranded, 0) as gpu_hours_stranded,
        case
            when stranded_daily.cluster is null then cast(0 as {{ money_type() }})
            when stranded_daily.is_fully_priced then coalesce(stranded_daily.stranded_cost, cast(0 as {{ money_type() }}))
        end as stranded_cost,
        coalesce(waiting_daily.jobs_waiting, 0) as jobs_waiting,
        coalesce(waiting_daily.gpu_hours_waited, 0) as gpu_hours_waited,

        -- placement
        coalesce(started_daily.multi_gpu_jobs_started, 0) as multi_gpu_jobs_started,
        coalesce(started_daily.jobs_started_wider, 0) as jobs_started_wider,
        coalesce(placed_daily.gpu_hours_multi_gpu_jobs, 0) as gpu_hours_multi_gpu_jobs,
        coalesce(placed_daily.gpu_hours_placed_wider, 0) as gpu_hours_placed_wider,
        coalesce(placed_daily.cost_placed_wider, cast(0 as {{ money_type() }})) as cost_placed_wider
    from days
    left join stranded_daily
        on days.usage_date = stranded_daily.usage_date
        and days.cluster = stranded_daily.cluster
    left join waiting_daily
        on days.usage_date = waiting_daily.usage_date
        and days.cluster = waiting_daily.cluster
    left join placed_daily
        on days.usage_date = placed_daily.usage_date
        and days.cluster = placed_daily.cluster
    left join started_daily
        on days.usage_date = started_daily.usage_date
        and days.cluster = started_daily.cluster
)

select * from final
