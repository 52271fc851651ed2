{#- GPU cost per UTC day, cluster and team (unallocated GPU-hours as team '(unallocated)'), with
    idle cost split by cause: what was paid = used (allocated x GPU activity) + idle allocated but
    unused + idle unallocated (paid GPU-hours no job held) + unmeasured (jobs on GPUs without
    telemetry). The same split as gpu_idle_cost_daily, with its idle part in two (the e2e overview
    test recomputes it from fct_gpu_cost_allocation). -#}
with

allocation as (
    select * from {{ ref('fct_gpu_cost_allocation') }}
),

final as (
    select
        -- grain
        usage_date,
        cast({{ dbt.date_trunc('month', 'usage_date') }} as date) as usage_month,
        cluster,
        coalesce(team, '(unallocated)') as team,
        currency,

        -- gpu-hours
        coalesce(sum(case when allocation_type = 'job' then gpu_hours_allocated end), 0) as gpu_hours_allocated,
        coalesce(sum(gpu_hours_unallocated), 0) as gpu_hours_unallocated,
        -- of gpu_hours_allocated, the hours no bill or declared price covers (not in paid_cost)
        coalesce(sum(gpu_hours_unpriced), 0) as gpu_hours_unpriced,
        coalesce(sum(gpu_hours_active), 0) as gpu_hours_active,

        -- money, in the GPU price's currency (none on a row only unpriced GPU-hours make: paid_cost NULL)
        sum(paid_cost) as paid_cost,
        coalesce(sum(utilization_weighted_cost), 0) as used_cost,
        coalesce(sum(idle_cost_allocated_unused), 0) as idle_cost_allocated_unused,
        coalesce(sum(idle_cost_unallocated), 0) as idle_cost_unallocated,
        coalesce(sum(idle_cost_allocated_unused), 0) + coalesce(sum(idle_cost_unallocated), 0) as idle_cost,
        coalesce(sum(case when allocation_type = 'job' and utilization_weighted_cost is null then paid_cost end), 0)
            as unmeasured_cost
    from allocation
    group by all
)

select * from final
