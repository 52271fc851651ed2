{#- Per cluster and UTC day, for every price source (cloud bill and declared on-prem price): the
    paid GPU cost of the node-hours (int_gpu_node_hourly_cost) = Σ job allocated cost + the
    unallocated idle cost in fct_gpu_cost_allocation, to the cent; and the GPU-hours too: paid
    GPU-hours = job-allocated + unallocated. Returns the cluster-days that do not add up. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_gpu_cost_allocation'}}}) }}
with

paid as (
    select
        cast(hour_start as date) as usage_date,
        cluster,
        sum(cost) as cost,
        sum(gpu_count) as gpu_hours
    from {{ ref('int_gpu_node_hourly_cost') }}
    group by 1, 2
),

allocated as (
    select
        usage_date,
        cluster,
        sum(paid_cost) as cost,
        -- unpriced GPU-hours sat on node-hours nobody paid for (not in int_gpu_node_hourly_cost)
        sum(gpu_hours_allocated - gpu_hours_unpriced + gpu_hours_unallocated) as gpu_hours
    from {{ ref('fct_gpu_cost_allocation') }}
    group by 1, 2
)

select
    coalesce(paid.usage_date, allocated.usage_date) as usage_date,
    coalesce(paid.cluster, allocated.cluster) as cluster,
    paid.cost as paid_cost,
    allocated.cost as allocated_plus_unallocated_cost,
    paid.gpu_hours as paid_gpu_hours,
    allocated.gpu_hours as allocated_plus_unallocated_gpu_hours
from paid
full outer join allocated
    on paid.usage_date = allocated.usage_date
    and paid.cluster = allocated.cluster
where round(coalesce(paid.cost, 0), 2) <> round(coalesce(allocated.cost, 0), 2)
    or abs(coalesce(paid.gpu_hours, 0) - coalesce(allocated.gpu_hours, 0)) > 1e-6
