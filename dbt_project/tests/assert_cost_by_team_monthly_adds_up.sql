{#- The view regroups fct_cost_daily: per currency it must not gain or lose a cent. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'cost_by_team_monthly'}}}) }}
with view_totals as (
    select billing_currency, sum(effective_cost) as total from {{ ref('cost_by_team_monthly') }} group by 1
),
mart_totals as (
    select billing_currency, sum(effective_cost) as total from {{ ref('fct_cost_daily') }} group by 1
)
select billing_currency, v.total as view_total, m.total as mart_total
from view_totals as v full join mart_totals as m using (billing_currency)
where v.total is distinct from m.total
