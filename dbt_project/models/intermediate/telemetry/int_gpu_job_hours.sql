{#- GPU-seconds each Slurm job held on its node in each UTC hour (the allocation side of GPU cost).
    A job still running in its newest sacct file counts until that file's end. Jobs on one node
    only: NodeList is a single hostname on Atlas's GPU clusters (multi-node lists are skipped). -#}
with

jobs as (
    select * from {{ ref('stg_slurm__jobs') }}
),

nodes as (
    select * from {{ ref('stg_cluster__gpu_nodes') }}
),

allocations as (
    select
        jobs.job_key,
        jobs.cluster,
        jobs.job_id,
        jobs.job_name,
        jobs.team,
        jobs.gpu_count,
        nodes.hostname,
        jobs.started_at,
        coalesce(jobs.ended_at, jobs.reported_through_at) as allocated_until
    from jobs
    inner join nodes
        on jobs.cluster = nodes.cluster
        and jobs.node_list = nodes.hostname
    where jobs.started_at is not null
        and jobs.gpu_count > 0
),

hour_numbers as (
    {{ dbt.generate_series(var('gpu_max_job_hours', 24 * 60)) }}
),

job_hours as (
    select
        allocations.*,
        {{ dbt.dateadd('hour', 'hour_numbers.generated_number - 1', dbt.date_trunc('hour', 'allocations.started_at')) }}
            as hour_start
    from allocations
    inner join hour_numbers
        on hour_numbers.generated_number <= {{ dbt.datediff(
            dbt.date_trunc('hour', 'allocations.started_at'), 'allocations.allocated_until', 'hour') }} + 1
),

final as (
    select
        job_key,
        cluster,
        job_id,
        job_name,
        team,
        hostname,
        gpu_count,
        hour_start,
        cast(hour_start as date) as usage_date,
        gpu_count * {{ dbt.datediff(
            'greatest(started_at, hour_start)',
            'least(allocated_until, ' ~ dbt.dateadd('hour', 1, 'hour_start') ~ ')',
            'second'
        ) }} as gpu_seconds
    from job_hours
)

select * from final
where gpu_seconds > 0
