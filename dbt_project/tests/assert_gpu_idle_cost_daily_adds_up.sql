{#- used + idle + unmeasured in the view = paid GPU cost in fct_gpu_cost_allocation, per currency, to the cent. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'gpu_idle_cost_daily'}}}) }}
with view_totals as (
    select currency, sum(used_cost + idle_cost + unmeasured_cost) as total from {{ ref('gpu_idle_cost_daily') }} group by 1
),
mart_totals as (
    select currency, sum(paid_cost) as total from {{ ref('fct_gpu_cost_allocation') }} group by 1
)
select currency, v.total as view_total, m.total as mart_total
from view_totals as v full join mart_totals as m using (currency)
where v.total is distinct from m.total
