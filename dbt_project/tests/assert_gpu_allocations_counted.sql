{#- Slurm allocations holding GPUs that no GPU-hour counts: a NodeList that was not exported or did
    not expand (no host to put the GPUs on), a start time that does not parse (the job is not
    pending), or an allocation longer than var gpu_max_job_hours (hours past it are not generated).
    Their GPU-hours are in no mart and their nodes' cost reads as unallocated; a warning per job,
    with the reason, so the gap is seen. -#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_slurm_job_nodes'}}}) }}
with

unplaced as (
    select job_key, cluster, 'no host: ' || coalesce(node_list_problem, 'NodeList did not expand') as reason
    from {{ ref('int_slurm_job_nodes') }}
    where hostname is null
),

unstarted as (
    select job_key, cluster, 'start time not readable (state ' || coalesce(state_raw, '?') || ')' as reason
    from {{ ref('stg_slurm__jobs') }}
    where started_at is null
        and gpu_count > 0
        and coalesce(state, '') <> 'PENDING'
),

too_long as (
    select distinct job_key, cluster, 'allocated longer than gpu_max_job_hours ({{ var("gpu_max_job_hours") }})' as reason
    from {{ ref('int_slurm_job_nodes') }}
    where {{ allocation_hours('started_at', 'allocated_until') }} > {{ var('gpu_max_job_hours') }}
)

select * from unplaced
union all
select * from unstarted
union all
select * from too_long
