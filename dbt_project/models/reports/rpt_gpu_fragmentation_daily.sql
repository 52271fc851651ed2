{#- What fragmentation cost per Slurm cluster and UTC day: stranded GPU-hours and their cost, and
    the GPU-hours and cost of jobs placed wider than needed. A thin view over
    fct_gpu_fragmentation_daily (its definitions). -#}
with

fragmentation as (
    select * from {{ ref('fct_gpu_fragmentation_daily') }}
),

final as (
    select
        -- grain
        usage_date,
        cast({{ dbt.date_trunc('month', 'usage_date') }} as date) as usage_month,
        cluster,
        currency,

        -- stranded
        gpu_hours_reported,
        gpu_hours_free_on_partly_used_nodes,
        gpu_hours_stranded,
        stranded_cost,
        jobs_waiting,
        gpu_hours_waited,

        -- placement
        multi_gpu_jobs_started,
        jobs_started_wider,
        gpu_hours_multi_gpu_jobs,
        gpu_hours_placed_wider,
        cost_placed_wider
    from fragmentation
)

select * from final
