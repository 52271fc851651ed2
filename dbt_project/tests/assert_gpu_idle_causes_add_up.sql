{#- Per job and day, the idle cost split by cause (fct_gpu_idle_cost_by_cause) adds up exactly to the
    allocated-but-unused idle cost fct_gpu_cost_allocation reports (where it reports one). -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_gpu_idle_cost_by_cause'}}}) }}
with

by_cause as (
    select usage_date, job_key, sum(idle_cost) as idle_cost
    from {{ ref('fct_gpu_idle_cost_by_cause') }}
    group by usage_date, job_key
),

allocation as (
    select usage_date, job_key, idle_cost_allocated_unused
    from {{ ref('fct_gpu_cost_allocation') }}
    where allocation_type = 'job'
        and idle_cost_allocated_unused is not null
)

select
    allocation.usage_date,
    allocation.job_key,
    allocation.idle_cost_allocated_unused,
    by_cause.idle_cost
from allocation
left join by_cause
    on allocation.usage_date = by_cause.usage_date
    and allocation.job_key = by_cause.job_key
where coalesce(by_cause.idle_cost, 0) <> allocation.idle_cost_allocated_unused
