{#- Each multi-GPU Slurm job's placement against the tightest one what was free at its start
    allowed. A thin view over fct_gpu_job_placement, dated by the job's start. -#}
with

placement as (
    select * from {{ ref('fct_gpu_job_placement') }}
),

final as (
    select
        -- grain
        job_key,
        start_date as usage_date,
        cluster,
        team,
        job_name,
        started_at,
        job_gpus,

        -- used vs fewest
        nodes_used,
        fewest_nodes,
        racks_used,
        fewest_racks,
        leaf_switches_used,
        fewest_leaf_switches,
        nvlink_domains_used,
        fewest_nvlink_domains,
        is_wider_than_needed,
        wider_on,

        -- cost
        currency,
        gpu_hours_allocated,
        allocated_cost
    from placement
)

select * from final
