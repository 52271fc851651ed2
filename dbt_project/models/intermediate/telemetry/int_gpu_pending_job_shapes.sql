{#- What Slurm jobs were waiting for, and when: one row per allocation that waited in the queue
    (Submit before Start), or still waits (never started: pending until it was cancelled or, still
    PENDING, until its newest sacct file's end), with the shape it needs.

    The shape of a job that ran is what it got: its most GPUs on one node (a job that waited for
    two whole nodes needs eight free GPUs on a node, not eight anywhere). A job that never ran is
    shaped by what it asked for (ReqTRES gres/gpu and node=, when sacct exports ReqTRES; else its
    AllocTRES), its GPUs spread evenly over its nodes. sacct does not say why a job waited
    (priority, a dependency, a reservation): every waiting job counts as demand. -#}
with

jobs as (
    select * from {{ ref('stg_slurm__jobs') }}
),

placed as (
    select
        job_key,
        max(gpus_on_node) as gpus_per_node
    from {{ ref('int_slurm_job_nodes') }}
    where hostname is not null
    group by job_key
),

waiting as (
    select
        jobs.job_key,
        jobs.cluster,
        jobs.team,
        jobs.gpu_type,
        jobs.submitted_at as pending_from,
        coalesce(jobs.started_at, jobs.ended_at, jobs.reported_through_at) as pending_until,
        jobs.started_at is null as never_started,
        case when jobs.gpu_count > 0 then jobs.gpu_count else jobs.requested_gpu_count end as job_gpus,
        coalesce(
            placed.gpus_per_node,
            cast(ceil(
                (case when jobs.gpu_count > 0 then jobs.gpu_count else jobs.requested_gpu_count end) * 1.0
                / greatest(coalesce(jobs.node_count, jobs.requested_node_count, 1), 1)
            ) as integer)
        ) as gpus_per_node
    from jobs
    left join placed
        on jobs.job_key = placed.job_key
    where jobs.submitted_at is not null
),

final as (
    select
        job_key,
        cluster,
        team,
        pending_from,
        pending_until,
        never_started,
        job_gpus,
        gpus_per_node,
        -- Slurm hands out whole GPUs
        cast(1 as double) as gpu_fraction,
        gpu_type
    from waiting
    where pending_until > pending_from
        and coalesce(job_gpus, 0) > 0
)

select * from final
