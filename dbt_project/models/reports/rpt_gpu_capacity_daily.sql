{#- GPU capacity against allocation and use per UTC day and cluster, a thin view over
    fct_gpu_capacity_daily: capacity (inventory GPUs x 24 h), allocated (held by jobs), idle
    (capacity - allocated) and active GPU-hours (utilization-weighted, from DCGM). Ratios are left
    to the reader as Σ / Σ over any slice. -#}
with

capacity as (
    select * from {{ ref('fct_gpu_capacity_daily') }}
),

final as (
    select
        -- grain
        usage_date,
        cast({{ dbt.date_trunc('month', 'usage_date') }} as date) as usage_month,
        cluster,

        -- fleet
        node_count,
        gpu_count,
        job_count,

        -- gpu-hours
        gpu_hours_capacity,
        gpu_hours_allocated,
        gpu_hours_idle,
        gpu_hours_active,
        has_dcgm_samples
    from capacity
)

select * from final
