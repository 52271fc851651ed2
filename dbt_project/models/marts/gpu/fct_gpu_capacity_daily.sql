{#- The fleet's GPU capacity against what allocations held and what they used, per UTC day and
    cluster. Capacity counts only the hours a node was reported (int_gpu_node_hours: a day with
    Slurm accounting, an hour with telemetry) or billed (int_gpu_node_hourly_cost), never days
    nobody reported. gpu_hours_unallocated = capacity - allocated: paid-for GPU-hours no job or
    pod held. Active GPU-hours are fct_gpu_hours_daily's (one definition). -#}
with

reported as (
    select hostname, hour_start, cluster, gpu_count from {{ ref('int_gpu_node_hours') }}
),

billed as (
    select hostname, hour_start, cluster, gpu_count from {{ ref('int_gpu_node_hourly_cost') }}
),

node_hours as (
    select * from reported
    union
    select * from billed
),

capacity as (
    select
        cast(hour_start as date) as usage_date,
        cluster,
        count(distinct hostname) as node_count,
        sum(gpu_count) as gpu_hours_capacity,
        max(gpu_count) as max_gpus_per_node
    from node_hours
    group by 1, 2
),

node_gpus as (
    select
        cluster,
        sum(gpu_count) as gpu_count
    from {{ ref('stg_cluster__gpu_nodes') }}
    group by cluster
),

usage_by_cluster as (
    select
        usage_date,
        cluster,
        sum(job_count) as job_count,
        sum(gpu_hours_allocated) as gpu_hours_allocated,
        sum(gpu_hours_active) as gpu_hours_active,
        {{ dbt.bool_or('has_gpu_telemetry') }} as has_gpu_telemetry
    from {{ ref('fct_gpu_hours_daily') }}
    group by usage_date, cluster
),

final as (
    select
        -- grain
        {{ dbt.concat([
            "cast(capacity.usage_date as " ~ dbt.type_string() ~ ")", "'|'", 'capacity.cluster'
        ]) }} as gpu_capacity_daily_key,
        capacity.usage_date,
        capacity.cluster,

        -- fleet
        capacity.node_count,
        node_gpus.gpu_count,
        coalesce(usage_by_cluster.job_count, 0) as job_count,

        -- gpu-hours
        cast(capacity.gpu_hours_capacity as double) as gpu_hours_capacity,
        coalesce(usage_by_cluster.gpu_hours_allocated, 0) as gpu_hours_allocated,
        capacity.gpu_hours_capacity - coalesce(usage_by_cluster.gpu_hours_allocated, 0) as gpu_hours_unallocated,
        usage_by_cluster.gpu_hours_active,

        -- ratios
        coalesce(usage_by_cluster.gpu_hours_allocated, 0) / nullif(capacity.gpu_hours_capacity, 0) as allocation_ratio,
        usage_by_cluster.gpu_hours_active / nullif(capacity.gpu_hours_capacity, 0) as active_ratio,
        coalesce(usage_by_cluster.has_gpu_telemetry, false) as has_gpu_telemetry
    from capacity
    left join node_gpus
        on capacity.cluster = node_gpus.cluster
    left join usage_by_cluster
        on capacity.usage_date = usage_by_cluster.usage_date
        and capacity.cluster = usage_by_cluster.cluster
)

select * from final
