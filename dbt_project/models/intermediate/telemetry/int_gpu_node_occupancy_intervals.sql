{{ config(materialized='table') }}
{#- Each node of a Slurm cluster over the hours its accounting covered (sacct files), split into
    intervals in which its occupancy does not change: at every hour (so an interval lies in one UTC
    hour and can be priced) and at every start and end of an allocation on it. Occupancy is Σ GPUs
    the allocations held on the node (int_slurm_job_nodes); Slurm hands out whole GPUs, so a free
    GPU is wholly free. Per node, not per cluster event: the rows grow with the node's own jobs. -#}
with

job_nodes as (
    select * from {{ ref('int_slurm_job_nodes') }}
    where hostname is not null
),

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

-- the hours Slurm accounting covered, per cluster
reported_hours as (
    select distinct
        cluster,
        hour_start
    from {{ ref('int_gpu_node_hours') }}
    where reported_by like '%slurm%'
),

boundaries as (
    select nodes.hostname, reported_hours.hour_start as boundary_at
    from nodes
    inner join reported_hours
        on nodes.cluster = reported_hours.cluster
    union
    select nodes.hostname, {{ dbt.dateadd('hour', 1, 'reported_hours.hour_start') }}
    from nodes
    inner join reported_hours
        on nodes.cluster = reported_hours.cluster
    union
    select hostname, started_at from job_nodes
    union
    select hostname, allocated_until from job_nodes
),

intervals as (
    select
        hostname,
        boundary_at as interval_start,
        lead(boundary_at) over (partition by hostname order by boundary_at) as interval_end
    from boundaries
),

reported_intervals as (
    select
        nodes.cluster,
        nodes.hostname,
        nodes.gpu_model,
        nodes.gpu_count,
        intervals.interval_start,
        intervals.interval_end
    from intervals
    inner join nodes
        on intervals.hostname = nodes.hostname
    inner join reported_hours
        on nodes.cluster = reported_hours.cluster
        and {{ dbt.date_trunc('hour', 'intervals.interval_start') }} = reported_hours.hour_start
    where intervals.interval_end is not null
),

held as (
    select
        reported_intervals.hostname,
        reported_intervals.interval_start,
        sum(job_nodes.gpus_held_on_node) as gpus_allocated,  -- whole GPUs (MIG slices by their share)
        count(distinct job_nodes.job_key) as jobs_running
    from reported_intervals
    inner join job_nodes
        on reported_intervals.hostname = job_nodes.hostname
        and job_nodes.started_at <= reported_intervals.interval_start
        and job_nodes.allocated_until >= reported_intervals.interval_end
    group by reported_intervals.hostname, reported_intervals.interval_start
),

final as (
    select
        -- grain
        reported_intervals.cluster,
        reported_intervals.hostname,
        reported_intervals.gpu_model,
        reported_intervals.interval_start,
        reported_intervals.interval_end,
        {{ dbt.date_trunc('hour', 'reported_intervals.interval_start') }} as hour_start,
        cast(reported_intervals.interval_start as date) as usage_date,

        -- occupancy (GPUs)
        cast(reported_intervals.gpu_count as double) as gpu_count,
        cast(coalesce(held.gpus_allocated, 0) as double) as gpus_allocated,
        coalesce(held.jobs_running, 0) as jobs_running,
        cast(greatest(reported_intervals.gpu_count - coalesce(held.gpus_allocated, 0), 0) as double) as gpus_free,
        cast(floor(greatest(reported_intervals.gpu_count - coalesce(held.gpus_allocated, 0), 0)) as double)
            as whole_gpus_free,
        case when reported_intervals.gpu_count > coalesce(held.gpus_allocated, 0) then 1.0 else 0.0 end
            as largest_free_fraction
    from reported_intervals
    left join held
        on reported_intervals.hostname = held.hostname
        and reported_intervals.interval_start = held.interval_start
)

select * from final
