-- The resource drill-down adds up to the explorer: per month, provider and currency, Σ over
-- resources (including charges without one) = Σ of rpt_spend_monthly.
{{ config(meta={'dagster': {'ref': {'name': 'rpt_spend_resources_monthly'}}}) }}

with

resources as (
    select billing_month, provider_name, billing_currency, sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost
    from {{ ref('rpt_spend_resources_monthly') }}
    group by 1, 2, 3
),

monthly as (
    select billing_month, provider_name, billing_currency, sum(effective_cost) as effective_cost,
        sum(billed_cost) as billed_cost
    from {{ ref('rpt_spend_monthly') }}
    group by 1, 2, 3
)

select *
from resources
full outer join monthly using (billing_month, provider_name, billing_currency)
where coalesce(resources.effective_cost, 0) <> coalesce(monthly.effective_cost, 0)
    or coalesce(resources.billed_cost, 0) <> coalesce(monthly.billed_cost, 0)
