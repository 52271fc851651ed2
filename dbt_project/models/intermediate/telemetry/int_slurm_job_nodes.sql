{#- A table, not a view: seven GPU models and a test read it (placement in several self-joins), and
    inlined as a view with its NodeList expansion and inventory join, Spark's plan for
    fct_gpu_job_placement outgrew a 1 GiB driver (Catalyst OutOfMemoryError). -#}
{{ config(materialized='table') }}
{#- Each Slurm allocation on each of its nodes: NodeList expanded through raw.slurm_node_lists
    (python-hostlist at ingest: `gpu-node-[00-03,07]`, several bracket groups, zero padding), and
    the allocation's GPUs (AllocTRES gres/gpu) spread over its nodes. sacct does not print GPUs
    per node; Slurm hands out whole GPUs, so a job's N GPUs on k nodes are N / k each, the first
    N mod k nodes (Slurm's order) taking one more when N does not divide. A NodeList that does
    not expand keeps one row with hostname NULL and `node_list_problem` (never dropped). -#}
with

jobs as (
    select * from {{ ref('stg_slurm__jobs') }}
    where started_at is not null
        and gpu_count > 0
),

node_lists as (
    select * from {{ source('raw_telemetry', 'slurm_node_lists') }}
),

node_slices as (
    -- the compute slices a MIG GPU of each node divides into (gpu_model_specs)
    select
        nodes.hostname,
        max(specs.mig_compute_slices) as mig_compute_slices
    from {{ ref('stg_cluster__gpu_nodes') }} as nodes
    left join {{ ref('gpu_model_specs') }} as specs
        on nodes.gpu_model = specs.gpu_model
    group by nodes.hostname
),

expanded as (
    select
        jobs.*,
        node_lists.hostname,
        node_lists.node_position,
        node_lists.problem as node_list_problem,
        count(node_lists.hostname) over (partition by jobs.job_key) as hosts,
        {{ model_mig_slices('node_slices.mig_compute_slices') }} as node_mig_compute_slices
    from jobs
    left join node_lists
        on jobs.node_list = node_lists.node_list
    left join node_slices
        on node_lists.hostname = node_slices.hostname
),

spread as (
    select
        *,
        case
            when hosts = 0 then gpu_count
            else cast(floor(gpu_count / hosts) as integer)
                + case when node_position < gpu_count % hosts then 1 else 0 end
        end as gpus_on_node
    from expanded
),

final as (
    select
        -- ids
        job_key,
        cluster,
        job_id,
        job_id_raw,
        parent_job_id,
        het_component,
        array_task_id,
        job_name,
        team,
        project,
        hostname,
        node_position,

        -- allocation
        gpu_count as job_gpu_count,
        gpu_mig_instances as job_gpu_mig_instances,
        gpu_mig_compute_slices as job_gpu_mig_compute_slices,
        hosts as job_hosts,
        gpus_on_node,
        -- the same in whole GPUs: a MIG instance Slurm counts as a GPU holds its compute slices over
        -- the model's (a100_3g.20gb = 3/7 of an A100), so a node split into slices is never
        -- allocated more than its GPUs (GPU-hours, cost, occupancy)
        case
            when gpu_mig_instances > 0 then gpus_on_node * (
                gpu_count - gpu_mig_instances + gpu_mig_compute_slices / cast(node_mig_compute_slices as double)
            ) / gpu_count
            else cast(gpus_on_node as double)
        end as gpus_held_on_node,

        -- timestamps
        started_at,
        coalesce(ended_at, reported_through_at) as allocated_until,
        node_list,
        coalesce(node_list_problem, case when node_list is null then 'no NodeList exported' end) as node_list_problem
    from spread
)

select * from final
