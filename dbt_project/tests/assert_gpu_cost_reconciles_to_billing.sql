{#- Σ paid GPU cost (allocated + unallocated idle) per cloud node = Σ EffectiveCost of the node's
    rows in focus_cost_and_usage, to the cent. Returns the clusters that do not reconcile.
    A blocking asset check on fct_gpu_cost_allocation. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'fct_gpu_cost_allocation'}}}) }}
with

billed as (
    select
        nodes.cluster,
        sum(focus."EffectiveCost") as effective_cost
    from {{ ref('focus_cost_and_usage') }} as focus
    inner join {{ ref('stg_cluster__gpu_nodes') }} as nodes
        on lower(focus."ResourceId") = lower(nodes.resource_id)
        or lower(focus."ResourceId") like '%/' || lower(nodes.resource_id)
    where nodes.provider <> 'onprem'
    group by nodes.cluster
),

allocated as (
    select
        cluster,
        sum(paid_cost) as paid_cost
    from {{ ref('fct_gpu_cost_allocation') }}
    where price_source = 'billing'
    group by cluster
)

select
    billed.cluster,
    billed.effective_cost,
    allocated.paid_cost
from billed
full outer join allocated
    on billed.cluster = allocated.cluster
where round(coalesce(billed.effective_cost, 0), 2) <> round(coalesce(allocated.paid_cost, 0), 2)
