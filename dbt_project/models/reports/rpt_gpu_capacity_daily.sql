{#- GPU capacity against allocation and use per UTC day and cluster, a thin view over
    fct_gpu_capacity_daily: capacity (the GPU-hours a cluster reported or was billed), allocated
    (held by jobs and pods), unallocated (capacity - allocated: paid for, held by nobody) and active
    GPU-hours (the one activity definition, int_gpu_job_activity_hourly). Ratios are left
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
        gpu_hours_unallocated,
        gpu_hours_active,
        has_gpu_telemetry
    from capacity
)

select * from final
