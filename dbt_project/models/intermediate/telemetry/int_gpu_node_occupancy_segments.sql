{{ config(materialized='table') }}
{#- Each node of a Slurm cluster over time, split into segments in which nothing changes: which
    GPUs were held and which jobs were waiting. Boundaries are every hour of the days the cluster
    reported (sacct files; so each segment lies in one UTC hour and can be priced), every job start
    and end on it, and every moment a job joined or left the queue (int_gpu_pending_job_shapes).
    Occupancy is Σ GPUs the allocations held on the node (int_slurm_job_nodes); Slurm hands out
    whole GPUs, so a free GPU is wholly free. -#}
with

job_nodes as (
    select * from {{ ref('int_slurm_job_nodes') }}
    where hostname is not null
),

pending as (
    select * from {{ ref('int_gpu_pending_job_shapes') }}
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
    select cluster, hour_start as boundary_at from reported_hours
    union
    select cluster, {{ dbt.dateadd('hour', 1, 'hour_start') }} from reported_hours
    union
    select cluster, started_at from job_nodes
    union
    select cluster, allocated_until from job_nodes
    union
    select cluster, pending_from from pending
    union
    select cluster, pending_until from pending
),

segments as (
    select
        cluster,
        boundary_at as segment_start,
        lead(boundary_at) over (partition by cluster order by boundary_at) as segment_end
    from boundaries
),

reported_segments as (
    select segments.*
    from segments
    inner join reported_hours
        on segments.cluster = reported_hours.cluster
        and {{ dbt.date_trunc('hour', 'segments.segment_start') }} = reported_hours.hour_start
    where segments.segment_end is not null
),

held as (
    select
        reported_segments.cluster,
        reported_segments.segment_start,
        job_nodes.hostname,
        sum(job_nodes.gpus_on_node) as gpus_allocated,
        count(distinct job_nodes.job_key) as jobs_running
    from reported_segments
    inner join job_nodes
        on reported_segments.cluster = job_nodes.cluster
        and job_nodes.started_at <= reported_segments.segment_start
        and job_nodes.allocated_until >= reported_segments.segment_end
    group by reported_segments.cluster, reported_segments.segment_start, job_nodes.hostname
),

final as (
    select
        -- grain
        reported_segments.cluster,
        reported_segments.segment_start,
        reported_segments.segment_end,
        {{ dbt.date_trunc('hour', 'reported_segments.segment_start') }} as hour_start,
        cast(reported_segments.segment_start as date) as usage_date,
        {{ dbt.datediff('reported_segments.segment_start', 'reported_segments.segment_end', 'second') }}
            as segment_seconds,
        nodes.hostname,
        nodes.gpu_model,

        -- occupancy (GPUs)
        cast(nodes.gpu_count as double) as gpu_count,
        cast(coalesce(held.gpus_allocated, 0) as double) as gpus_allocated,
        coalesce(held.jobs_running, 0) as jobs_running,
        cast(greatest(nodes.gpu_count - coalesce(held.gpus_allocated, 0), 0) as double) as gpus_free,
        cast(greatest(nodes.gpu_count - coalesce(held.gpus_allocated, 0), 0) as double) as whole_gpus_free,
        case when nodes.gpu_count > coalesce(held.gpus_allocated, 0) then 1.0 else 0.0 end as largest_free_fraction
    from reported_segments
    inner join nodes
        on reported_segments.cluster = nodes.cluster
    left join held
        on reported_segments.cluster = held.cluster
        and reported_segments.segment_start = held.segment_start
        and nodes.hostname = held.hostname
)

select * from final
