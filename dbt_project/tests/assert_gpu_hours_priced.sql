{#- GPU-hours no price covers, per cluster and UTC day: jobs on nodes missing from the inventory,
    on hours whose bill has not been delivered yet, or on an on-prem cluster without a declared
    price (assets/gpu_pricing.yaml). They are kept in fct_gpu_cost_allocation.gpu_hours_unpriced,
    not costed; a warning, so the gap is seen. -#}
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'fct_gpu_cost_allocation'}}}) }}
select
    usage_date,
    cluster,
    sum(gpu_hours_unpriced) as gpu_hours_unpriced
from {{ ref('fct_gpu_cost_allocation') }}
where gpu_hours_unpriced > 0
group by usage_date, cluster
