{#- The fleet's GPU capacity against what Slurm jobs held and what they used, per UTC day and
    cluster: capacity = the inventory's GPUs x 24 h, idle = capacity - allocated (no job held
    the GPU), and active = utilization-weighted GPU-hours from DCGM. Days span the telemetry:
    from the first allocated day to the last sacct file. -#}
with

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

jobs as (
    select * from {{ ref('stg_slurm__jobs') }}
),

gpu_hours as (
    select * from {{ ref('fct_gpu_hours_daily') }}
),

cluster_capacity as (
    select
        cluster,
        count(*) as node_count,
        sum(gpu_count) as gpu_count
    from nodes
    group by cluster
),

telemetry_bounds as (
    select
        min(first_day) as first_day,
        max(last_day) as last_day
    from (
        select
            min(usage_date) as first_day,
            max(usage_date) as last_day
        from gpu_hours
        union all
        select
            min(report_date) as first_day,
            max(report_date) as last_day
        from jobs
    ) as bounds
),

day_numbers as (
    {{ dbt.generate_series(var('gpu_max_telemetry_days', 3660)) }}
),

days as (
    select
        cast({{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'telemetry_bounds.first_day') }} as date)
            as usage_date
    from day_numbers
    cross join telemetry_bounds
    where {{ dbt.dateadd('day', 'day_numbers.generated_number - 1', 'telemetry_bounds.first_day') }}
        <= telemetry_bounds.last_day
),

usage_by_cluster as (
    select
        usage_date,
        cluster,
        sum(job_count) as job_count,
        sum(gpu_hours_allocated) as gpu_hours_allocated,
        sum(gpu_hours_active) as gpu_hours_active,
        {{ dbt.bool_or('has_dcgm_samples') }} as has_dcgm_samples
    from gpu_hours
    group by usage_date, cluster
),

final as (
    select
        -- grain
        {{ dbt.concat([
            "cast(days.usage_date as " ~ dbt.type_string() ~ ")", "'|'", 'cluster_capacity.cluster'
        ]) }} as gpu_capacity_daily_key,
        days.usage_date,
        cluster_capacity.cluster,

        -- fleet
        cluster_capacity.node_count,
        cluster_capacity.gpu_count,
        coalesce(usage_by_cluster.job_count, 0) as job_count,

        -- gpu-hours
        cast(cluster_capacity.gpu_count * 24 as double) as gpu_hours_capacity,
        coalesce(usage_by_cluster.gpu_hours_allocated, 0) as gpu_hours_allocated,
        cluster_capacity.gpu_count * 24 - coalesce(usage_by_cluster.gpu_hours_allocated, 0) as gpu_hours_idle,
        usage_by_cluster.gpu_hours_active,

        -- ratios
        coalesce(usage_by_cluster.gpu_hours_allocated, 0) / nullif(cluster_capacity.gpu_count * 24, 0)
            as allocation_ratio,
        usage_by_cluster.gpu_hours_active / nullif(cluster_capacity.gpu_count * 24, 0) as active_ratio,
        coalesce(usage_by_cluster.has_dcgm_samples, false) as has_dcgm_samples
    from days
    cross join cluster_capacity
    left join usage_by_cluster
        on days.usage_date = usage_by_cluster.usage_date
        and cluster_capacity.cluster = usage_by_cluster.cluster
)

select * from final
