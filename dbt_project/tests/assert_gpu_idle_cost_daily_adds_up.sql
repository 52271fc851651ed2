{#- used + idle + unmeasured in the view = paid GPU cost in fct_gpu_cost_allocation, per currency, to the cent. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'gpu_idle_cost_daily'}}}) }}
with view_totals as (
    select currency, sum(used_cost + idle_cost + unmeasured_cost) as total from {{ ref('gpu_idle_cost_daily') }} group by 1
),
mart_totals as (
    -- unpriced GPU-hours (currency and paid_cost NULL) are 0 used, idle and unmeasured in the view
    select currency, coalesce(sum(paid_cost), 0) as total from {{ ref('fct_gpu_cost_allocation') }} group by 1
)
select coalesce(v.currency, m.currency) as currency, v.total as view_total, m.total as mart_total
-- NULL currency (unpriced GPU-hours) is a group of its own on both sides
from view_totals as v full join mart_totals as m on coalesce(v.currency, '') = coalesce(m.currency, '')
where v.total is distinct from m.total
